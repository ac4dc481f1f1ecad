/**
 * EC2 API errors as EC2 itself answers them (Query API: an XML `<Response>` with `<Errors>` and
 * the `<RequestID>`, the HTTP status of the error's class), so an AWS SDK parses them as it would
 * in AWS: `error.name` is the code, `$metadata.requestId` the request id. The shape is the one
 * EC2's API reference ("Error codes", api-error-response) and Smithy's ec2Query protocol tests
 * give (test/fixtures/aws-errors).
 */
import { randomUUID } from 'node:crypto';
import { create } from 'xmlbuilder2';

export type Ec2ErrorCode =
  | 'InsufficientInstanceCapacity'
  | 'RequestLimitExceeded'
  | 'ServiceUnavailable'
  | 'InternalError';

/** The status EC2 answers each with (server errors are 5xx) and its wording. */
const ERRORS: Record<Ec2ErrorCode, { status: number; message: (az: string) => string }> = {
  InsufficientInstanceCapacity: {
    status: 500,
    message: (az) =>
      `We currently do not have sufficient capacity in the Availability Zone you requested (${az}). ` +
      'Our system will be working on provisioning additional capacity.',
  },
  RequestLimitExceeded: { status: 503, message: () => 'Request limit exceeded.' },
  ServiceUnavailable: {
    status: 503,
    message: () => 'The request has failed due to a temporary failure of the server.',
  },
  InternalError: { status: 500, message: () => 'An internal error has occurred.' },
};

export interface Ec2ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  requestId: string;
}

export function ec2Error(code: Ec2ErrorCode, availabilityZone = ''): Ec2ErrorAnswer {
  const { status, message } = ERRORS[code];
  const requestId = randomUUID();
  const body = create({ version: '1.0', encoding: 'UTF-8' })
    .ele('Response')
    .ele('Errors')
    .ele('Error')
    .ele('Code')
    .txt(code)
    .up()
    .ele('Message')
    .txt(message(availabilityZone))
    .up()
    .up()
    .up()
    .ele('RequestID')
    .txt(requestId)
    .end();
  return {
    status,
    headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
    body,
    requestId,
  };
}
