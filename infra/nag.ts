/**
 * Acknowledgements of cdk-nag findings that Tributary's constructs cause by design. They are recorded
 * with aws-cdk-lib's own `Validations.of(...).acknowledge()` (which cdk-nag v3 reads), so the
 * constructs need no dependency on cdk-nag, and an app that runs cdk-nag over them sees each one with
 * its reason.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges a cdk-nag rule on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for one wildcard resource (such as `<bucket ARN>/*`) in the
 * policies under `scope`. cdk-nag names the finding after the resource as it appears in the
 * template, with references flattened (`<LogicalId.Arn>/*`); this builds the same name.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const flat = flatten(Stack.of(scope).resolve(resourceArn));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}

/** cdk-nag's rendering of a CloudFormation expression as a string. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (Array.isArray(record['Fn::Join'])) {
      const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (record['Fn::Sub'] !== undefined) return flatten(record['Fn::Sub']);
    if (Array.isArray(record['Fn::GetAtt'])) {
      const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (record['Fn::ImportValue'] !== undefined) return flatten(record['Fn::ImportValue']);
    if (record.Ref !== undefined) return `<${flatten(record.Ref)}>`;
  }
  return JSON.stringify(node);
}
