/**
 * The CDK app of `cdk.json`: `npx cdk synth`, `npx cdk deploy`. Settings come from context
 * (`-c replicaRegions=eu-west-1,us-west-2`, `-c stackName=...`, ...), documented in docs/deploy.md.
 */
import { App } from 'aws-cdk-lib';
import { readAppConfig } from './app-context.ts';
import { addDeployment } from './deployment.ts';

const app = new App();
addDeployment(
  app,
  readAppConfig((key) => app.node.tryGetContext(key), process.env),
);
