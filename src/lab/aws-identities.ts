/**
 * What the lab's account in moto holds so that experiments/aws/*.yaml act on the lab as on a real
 * account: the IAM roles those files name (the autoscaler's, which FIS API-error actions target,
 * and the one FIS itself assumes), the autoscaler's credentials as a session of its role (STS
 * AssumeRole, so the lab's AWS front can tell its calls apart by their access key), and the orders
 * subnet, tagged `app=orders` for `aws:ec2:subnet` targets such as disrupt-connectivity's.
 */
import { CreateTagsCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ORDERS_TAG } from './fleet';

/** moto's account: the one experiments/aws name until their user puts in their own. */
export const LAB_ACCOUNT = '123456789012';
export const AUTOSCALING_ROLE = `arn:aws:iam::${LAB_ACCOUNT}:role/orders-autoscaling`;
export const FIS_ROLE = `arn:aws:iam::${LAB_ACCOUNT}:role/gameday-fis`;
const REGION = 'us-east-1';

const trust = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });

/**
 * The two roles, in moto's IAM. The project has no IAM SDK client, and moto reads a Query API call
 * by its credential scope without checking the signature, so one form post each does it.
 */
export async function createLabRoles(motoUrl: string): Promise<void> {
  const roles = [
    { arn: AUTOSCALING_ROLE, trustedBy: 'ec2.amazonaws.com' },
    { arn: FIS_ROLE, trustedBy: 'fis.amazonaws.com' },
  ];
  for (const role of roles) {
    const answer = await fetch(motoUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=lab/20260101/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: new URLSearchParams({
        Action: 'CreateRole',
        Version: '2010-05-08',
        RoleName: role.arn.split('/').pop() ?? '',
        AssumeRolePolicyDocument: trust(role.trustedBy),
      }),
    });
    if (!answer.ok)
      throw new Error(`moto IAM CreateRole ${role.arn}: ${answer.status} ${await answer.text()}`);
  }
}

/** The autoscaler's credentials: sessions of its role, renewed by the SDK before they expire. */
export function autoscalingCredentials(motoUrl: string) {
  const sts = new STSClient({
    region: REGION,
    endpoint: motoUrl,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
  });
  return async () => {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: AUTOSCALING_ROLE, RoleSessionName: 'lab-autoscaler' }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey)
      throw new Error(`STS AssumeRole ${AUTOSCALING_ROLE} returned no credentials`);
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration,
    };
  };
}

/** The orders subnet: the default VPC's in us-east-1a, tagged as the orders service's. */
export async function tagOrdersSubnet(motoUrl: string): Promise<string> {
  const ec2 = new EC2Client({
    region: REGION,
    endpoint: motoUrl,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
  });
  const answer = await ec2.send(
    new DescribeSubnetsCommand({
      Filters: [
        { Name: 'availability-zone', Values: [`${REGION}a`] },
        { Name: 'default-for-az', Values: ['true'] },
      ],
    }),
  );
  const subnetId = answer.Subnets?.[0]?.SubnetId;
  if (!subnetId) throw new Error(`moto has no default subnet in ${REGION}a`);
  await ec2.send(new CreateTagsCommand({ Resources: [subnetId], Tags: [ORDERS_TAG] }));
  return subnetId;
}
