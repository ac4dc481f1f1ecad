/**
 * An FIS experiment template as CreateExperimentTemplate takes it, field for field, so a template
 * from the FIS console, its docs or the template library pastes into an `awsFis` fault as it is.
 * Each object's keys are checked at compile time against the pinned @aws-sdk/client-fis input
 * types: a field the SDK gains is a type error here, not a refusal of users' templates. The one
 * field FIS's API reference has and the pinned SDK (3.523.0, the newest the registry here serves)
 * does not, experimentReportConfiguration, is typed from the API reference and sent by
 * src/providers/faults/aws-fis.ts past the SDK's serializer, which would drop it.
 */
import type {
  CreateExperimentTemplateActionInput,
  CreateExperimentTemplateCommandInput,
  CreateExperimentTemplateExperimentOptionsInput,
  CreateExperimentTemplateLogConfigurationInput,
  CreateExperimentTemplateStopConditionInput,
  CreateExperimentTemplateTargetInput,
  ExperimentTemplateTargetInputFilter,
} from '@aws-sdk/client-fis';
import { z } from 'zod';

/** Compiles only when a zod shape has exactly the keys of the SDK's type; the error names the odd ones. */
type ExactKeys<Shape, Sdk> = [Exclude<keyof Sdk, keyof Shape>, Exclude<keyof Shape, keyof Sdk>] extends [
  never,
  never,
]
  ? Shape
  : {
      keysMissingFromTheSchema: Exclude<keyof Sdk, keyof Shape>;
      keysTheSdkDoesNotHave: Exclude<keyof Shape, keyof Sdk>;
    };
const fieldsOf =
  <Sdk>() =>
  <Shape extends z.ZodRawShape>(shape: Shape & ExactKeys<Shape, Sdk>): Shape =>
    shape;

/**
 * Fields of CreateExperimentTemplate in FIS's API reference that the pinned SDK does not know. When
 * the SDK catches up, `sdkHasCaughtUp` stops compiling: take the field out of here and of
 * API_ONLY_FIELDS, and let the SDK send it.
 */
interface ApiOnlyFields {
  experimentReportConfiguration?: unknown;
}
export const API_ONLY_FIELDS = ['experimentReportConfiguration'] as const;
const sdkHasCaughtUp: Extract<keyof ApiOnlyFields, keyof CreateExperimentTemplateCommandInput> extends never
  ? true
  : never = true;
void sdkHasCaughtUp;

/** Tag keys and values as FIS limits them (128 and 256 characters). */
const Tags = z.record(z.string().min(1).max(128), z.string().max(256));
const StringMap = z.record(z.string(), z.string());

const Filter = z.strictObject(
  fieldsOf<ExperimentTemplateTargetInputFilter>()({
    path: z
      .string()
      .min(1)
      .max(256)
      .describe('An attribute path in the Describe output, e.g. Placement.AvailabilityZone'),
    values: z.array(z.string().max(128)),
  }),
);

export const FisTarget = z.strictObject(
  fieldsOf<CreateExperimentTemplateTargetInput>()({
    resourceType: z.string().min(1).max(64),
    resourceArns: z.array(z.string().min(20).max(2048)).optional(),
    resourceTags: Tags.optional(),
    filters: z.array(Filter).optional(),
    selectionMode: z.string().min(1).max(64),
    parameters: StringMap.optional(),
  }),
);

const FisAction = z.strictObject(
  fieldsOf<CreateExperimentTemplateActionInput>()({
    actionId: z
      .string()
      .regex(/^aws:[a-z0-9-]+:[a-z0-9-]+$/, 'a FIS action id such as aws:ec2:stop-instances'),
    description: z.string().max(512).optional(),
    parameters: StringMap.optional(),
    targets: StringMap.optional(),
    startAfter: z.array(z.string()).optional(),
  }),
);

const StopCondition = z.strictObject(
  fieldsOf<CreateExperimentTemplateStopConditionInput>()({
    source: z.string().min(1).max(64),
    value: z.string().min(20).max(2048).optional(),
  }),
);

const LogConfiguration = z.strictObject(
  fieldsOf<CreateExperimentTemplateLogConfigurationInput>()({
    cloudWatchLogsConfiguration: z.strictObject({ logGroupArn: z.string().min(20).max(2048) }).optional(),
    s3Configuration: z
      .strictObject({ bucketName: z.string().min(3).max(63), prefix: z.string().min(1).max(1024).optional() })
      .optional(),
    logSchemaVersion: z.number().int(),
  }),
);

const ExperimentOptions = z.strictObject(
  fieldsOf<CreateExperimentTemplateExperimentOptionsInput>()({
    accountTargeting: z.enum(['single-account', 'multi-account']).optional(),
    emptyTargetResolutionMode: z.enum(['fail', 'skip']).optional(),
  }),
);

/** CreateExperimentTemplateReportConfigurationInput, from FIS's API reference. */
const ReportConfiguration = z.strictObject({
  outputs: z
    .strictObject({
      s3Configuration: z
        .strictObject({ bucketName: z.string().min(3).max(63), prefix: z.string().max(256).optional() })
        .optional(),
    })
    .optional(),
  dataSources: z
    .strictObject({
      cloudWatchDashboards: z.array(z.strictObject({ dashboardIdentifier: z.string().max(512) })).optional(),
    })
    .optional(),
  preExperimentDuration: z.string().max(32).optional(),
  postExperimentDuration: z.string().max(32).optional(),
});

export const FisTemplate = z.strictObject(
  fieldsOf<Omit<CreateExperimentTemplateCommandInput, 'clientToken'> & ApiOnlyFields>()({
    description: z.string().min(1).max(512),
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN'),
    targets: z.record(z.string().min(1).max(64), FisTarget).default({}),
    actions: z.record(z.string().min(1).max(64), FisAction),
    stopConditions: z.array(StopCondition).default([{ source: 'none' }]),
    tags: Tags.optional().describe("Kept on the run's template, merged with gameday's run tags (which win)"),
    logConfiguration: LogConfiguration.optional(),
    experimentOptions: ExperimentOptions.optional(),
    experimentReportConfiguration: ReportConfiguration.optional(),
  }),
);

export type FisTemplate = z.infer<typeof FisTemplate>;

/**
 * The tags the run's template carries: the user's, with gameday's run tags on top (they are how a
 * revert after a crash finds the template and its experiment, so they must win). Says which user
 * tags were overridden.
 */
export function mergedTags(
  userTags: Record<string, string> | undefined,
  runTags: Record<string, string>,
): { tags: Record<string, string>; overridden: string[] } {
  const overridden = Object.keys(userTags ?? {}).filter(
    (key) => key in runTags && userTags?.[key] !== runTags[key],
  );
  return { tags: { ...userTags, ...runTags }, overridden };
}
