/**
 * `lambda:GetFunctionConfiguration` for trigger administration: creating (or updating) a trigger checks that its
 * function exists before anything is written (`FunctionNotFoundError`), with `GetFunction`
 * (`sdk/src/triggers/function-lookup.ts`).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.ts';

/** Every function of `scope`'s stack's account and region: `arn:<partition>:lambda:<region>:<account>:function:*`. */
export function anyFunctionArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'lambda',
    resource: 'function',
    resourceName: '*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * Lets `grantee` look up any function of `scope`'s stack's account and region. The functions a trigger
 * may name are not known to the stack, so the grant cannot name them; `GetFunction` cannot invoke
 * or change a function (it returns its configuration and a short-lived download URL of its code).
 * With `acknowledgeOn` (a role of ours), the wildcard is acknowledged for cdk-nag there.
 */
export function grantFunctionLookup(
  scope: IConstruct,
  grantee: iam.IGrantable,
  acknowledgeOn?: IConstruct,
): iam.Grant {
  const resource = anyFunctionArn(scope);
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['lambda:GetFunctionConfiguration'],
    resourceArns: [resource],
  });
  if (acknowledgeOn) {
    acknowledgeWildcardResource(
      acknowledgeOn,
      resource,
      'Creating a trigger checks that its function exists (lambda:GetFunctionConfiguration) before writing anything; the ' +
        'functions a trigger may name are not known to the stack, so the check may look up any function of the ' +
        "stack's account and region. GetFunction cannot invoke or change a function.",
    );
  }
  return grant;
}
