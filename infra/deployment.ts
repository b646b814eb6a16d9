/**
 * The stacks of a Tributary deployment as `infra/app.ts` defines them from its context: the home
 * stack, one archive replica stack per replica region, and cdk-nag's AWS Solutions checks.
 */
import { type App, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { AppConfig } from './app-context.ts';
import { TributaryReplicaStack } from './replica-stack.ts';
import { TributaryStack } from './tributary-stack.ts';

/** The stacks {@link addDeployment} created. */
export interface Deployment {
  readonly stack: TributaryStack;
  readonly replicas: readonly TributaryReplicaStack[];
}

/**
 * Adds the stacks for `config` to `app` and registers cdk-nag (AwsSolutions rules) as a policy
 * validation plugin, so `cdk synth` and `cdk deploy` fail on any finding that is not acknowledged.
 * The acknowledgements, each with its reason, sit on the constructs that cause them.
 */
export function addDeployment(app: App, config: AppConfig): Deployment {
  const replicas: TributaryReplicaStack[] = [];
  const replicaArchiveBuckets: Record<string, s3.IBucket> = {};
  for (const region of config.replicaRegions) {
    const keyArn =
      config.encryption.type === 'customer-managed' ? config.encryption.replicaKeyArns?.[region] : undefined;
    const replica = new TributaryReplicaStack(app, `${config.stackName}-archive-${region}`, {
      env: { ...config.env, region },
      removalPolicy: config.removalPolicy,
      ...(keyArn ? { encryptionKeyArn: keyArn } : {}),
    });
    replicas.push(replica);
    replicaArchiveBuckets[region] = replica.archive.bucket;
  }

  const stack = new TributaryStack(app, config.stackName, {
    ...(config.env.account || config.env.region ? { env: config.env } : {}),
    replicaRegions: config.replicaRegions,
    replicaArchiveBuckets,
    multiRegionConsistency: config.multiRegionConsistency,
    ...(config.witnessRegion ? { witnessRegion: config.witnessRegion } : {}),
    encryption: config.encryption,
    billing: config.billing,
    removalPolicy: config.removalPolicy,
    ...(config.archiveSchedule ? { archiveSchedule: config.archiveSchedule } : {}),
    ...(config.logLevel ? { logLevel: config.logLevel } : {}),
  });
  // Replication into a bucket that does not exist yet fails: the replica stacks deploy first.
  for (const replica of replicas) stack.addStackDependency(replica, 'the archive replicates into its bucket');

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { stack, replicas };
}
