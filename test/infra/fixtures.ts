/**
 * Shared pieces of the CDK assertion tests: apps that skip bundling, a concrete environment, and
 * readers for the IAM statements of a synthesized template.
 */
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { TributaryStack, type TributaryStackProps } from '../../infra/index.ts';

/** Context that makes NodejsFunction skip esbuild (every test but the bundling one). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/** A concrete environment (replicas and cross-region references need one). */
export const ENV = { account: '111111111111', region: 'us-east-1' } as const;

/** KMS key ARNs in replica regions, shaped like real ones (CloudFormation validates the format). */
export const REPLICA_KEYS = {
  'eu-west-1': 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  'us-west-2': 'arn:aws:kms:us-west-2:111111111111:key/2234abcd-12ab-34cd-56ef-1234567890ab',
} as const;

/** An app whose functions are not bundled. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...SKIP_BUNDLING, ...context } });
}

/** A TributaryStack in a fresh app, with a role `App` that tests grant things to. */
export function tributaryStack(props: TributaryStackProps = {}): {
  readonly app: App;
  readonly stack: TributaryStack;
  readonly role: iam.Role;
} {
  const app = testApp();
  const stack = new TributaryStack(app, 'Tributary', props);
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() });
  return { app, stack, role };
}

/** One statement of an identity policy, with its resources rendered as strings. */
export interface Statement {
  /** Logical id of the policy (or role) holding it. */
  readonly policy: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition: Record<string, Record<string, unknown>> | undefined;
}

/** Every statement of every IAM identity policy (AWS::IAM::Policy and role inline policies). */
export function identityStatements(template: Template): Statement[] {
  const out: Statement[] = [];
  const add = (policy: string, document: unknown) => {
    const statements = (document as { Statement?: unknown[] }).Statement ?? [];
    for (const raw of statements) {
      const s = raw as { Effect: string; Action: unknown; Resource: unknown; Condition?: unknown };
      out.push({
        policy,
        effect: s.Effect,
        actions: ([] as unknown[]).concat(s.Action).map(String),
        resources: ([] as unknown[]).concat(s.Resource).map(render),
        condition: s.Condition as Statement['condition'],
      });
    }
  };
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    add(id, (policy as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument);
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline =
      (role as { Properties: { Policies?: { PolicyDocument: unknown }[] } }).Properties.Policies ?? [];
    for (const p of inline) add(id, p.PolicyDocument);
  }
  return out;
}

/** The statements of the policy attached to `role`. */
export function statementsOf(template: Template, stack: Stack, role: iam.Role): Statement[] {
  const policyId = stack.getLogicalId(
    role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy,
  );
  return identityStatements(template).filter((s) => s.policy === stack.resolve(policyId));
}

/**
 * A CloudFormation value as one string: `Fn::Join` concatenated, `Ref` as `<Id>`, `Fn::GetAtt` as
 * `<Id.Attr>` (the shape cdk-nag uses too).
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(delimiter);
    }
    if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  }
  return JSON.stringify(value);
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
}
