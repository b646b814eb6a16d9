import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { TRIGGER_RESOURCE_PROPERTY } from '../../functions/environment.ts';
import {
  type Tributary,
  TributaryEventSource,
  type TributaryEventSourceProps,
  TributaryStack,
} from '../../infra/index.ts';
import { validateTriggerConfig } from '../../sdk/src/internal.ts';
import { ENV, identityStatements, logicalId, render, type Statement, testApp } from './fixtures.ts';

const TRIM_HORIZON = lambda.StartingPosition.TRIM_HORIZON;

/** A function to attach triggers to. */
function targetFunction(scope: Stack, id = 'Target'): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
  });
}

/** A Tributary stack with one function that gets `props` as its event source. */
function withEventSource(props: TributaryEventSourceProps, env: typeof ENV | undefined = ENV) {
  const app = testApp();
  const stack = new TributaryStack(app, 'Tributary', env ? { env } : {});
  const fn = targetFunction(stack);
  const source = new TributaryEventSource(stack.tributary, props);
  fn.addEventSource(source);
  return { app, stack, fn, source, template: Template.fromStack(stack) };
}

/** The trigger configuration a `Custom::TributaryTrigger` carries, with references as `<Id.Attr>`. */
function triggerConfigs(template: Template): Record<string, unknown>[] {
  return Object.values(template.findResources('Custom::TributaryTrigger')).map((resource) =>
    JSON.parse(
      render((resource as { Properties: Record<string, unknown> }).Properties[TRIGGER_RESOURCE_PROPERTY]),
    ),
  );
}

/** Statements of the policy that grants the dispatcher a trigger's access. */
function dispatcherAccess(template: Template, stack: Stack, tributary: Tributary): Statement[] {
  const roleId = logicalId(stack, tributary.dispatcher.role);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleId }] },
  });
  const own = Object.keys(policies).filter((id) => id.includes('DispatcherAccess'));
  return identityStatements(template).filter((s) => own.includes(s.policy));
}

describe('TributaryEventSource', () => {
  it("creates the trigger as a custom resource with the props' settings, every one written out", () => {
    const { stack, fn, source, template } = withEventSource({
      topic: 'orders',
      startingPosition: TRIM_HORIZON,
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(2),
      retryAttempts: 4,
      maxRecordAge: Duration.hours(1),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      filters: [lambda.FilterCriteria.filter({ value: { type: lambda.FilterRule.isEqual('created') } })],
      maxConcurrency: 3,
      triggerName: 'orders-to-billing',
    });
    template.resourceCountIs('Custom::TributaryTrigger', 1);
    const [resource] = Object.values(template.findResources('Custom::TributaryTrigger')) as {
      Properties: { ServiceToken: unknown };
    }[];
    expect(resource?.Properties.ServiceToken).toEqual({
      'Fn::GetAtt': [
        logicalId(
          stack,
          stack.tributary.dispatcher.triggerProvider.provider.node.findChild('framework-onEvent'),
        ),
        'Arn',
      ],
    });
    const config = {
      name: 'orders-to-billing',
      topic: 'orders',
      functionName: `<${logicalId(stack, fn)}.Arn>`,
      enabled: true,
      startingPosition: 'TRIM_HORIZON' as const,
      batchSize: 500,
      maximumBatchingWindowInSeconds: 2,
      maximumRetryAttempts: 4,
      maximumRecordAgeInSeconds: 3600,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures' as const],
      destinationConfig: { onFailure: { destination: '' } },
      filterCriteria: { filters: [{ pattern: '{"value":{"type":["created"]}}' }] },
      scalingConfig: { maximumConcurrency: 3 },
    };
    expect(triggerConfigs(template)).toEqual([config]);
    // What the handler receives passes the SDK's validation once the ARN is known.
    expect(() =>
      validateTriggerConfig({
        ...config,
        functionName: 'arn:aws:lambda:us-east-1:111111111111:function:target',
      }),
    ).not.toThrow();
    expect([source.triggerName, source.groupId]).toEqual(['orders-to-billing', 'trigger-orders-to-billing']);
  });

  it('writes the defaults of absent props (an update resets a removed prop), except the batching window', () => {
    const { template } = withEventSource({
      topic: 'orders',
      startingPosition: lambda.StartingPosition.LATEST,
    });
    const [config] = triggerConfigs(template);
    expect(config).toMatchObject({
      enabled: true,
      batchSize: 100,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
      functionResponseTypes: [],
      destinationConfig: { onFailure: { destination: '' } },
      filterCriteria: { filters: [] },
      scalingConfig: {},
    });
    expect(config).not.toHaveProperty('maximumBatchingWindowInSeconds');
    expect(config).not.toHaveProperty('groupId');
  });

  it('grants the dispatcher invoke and configuration reads on that function only, before the trigger exists', () => {
    const { stack, fn, template } = withEventSource({ topic: 'orders', startingPosition: TRIM_HORIZON });
    const access = dispatcherAccess(template, stack, stack.tributary);
    expect(access.map((s) => [s.actions, s.resources])).toEqual([
      [['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], [`<${logicalId(stack, fn)}.Arn>`]],
    ]);
    const [resource] = Object.values(template.findResources('Custom::TributaryTrigger')) as {
      DependsOn?: string[];
    }[];
    expect(resource?.DependsOn).toEqual([access[0]?.policy]);
    // Nothing in the stack may invoke every function (or every function of a name).
    for (const s of identityStatements(template).filter((st) =>
      st.actions.includes('lambda:InvokeFunction'),
    )) {
      for (const arn of s.resources) expect(arn === '*' || arn.endsWith(':function:*'), arn).toBe(false);
    }
  });

  it('grants exactly the qualifier of an alias', () => {
    const app = testApp();
    const stack = new TributaryStack(app, 'Tributary', { env: ENV });
    const alias = new lambda.Alias(stack, 'Live', {
      aliasName: 'live',
      version: targetFunction(stack).currentVersion,
    });
    alias.addEventSource(
      new TributaryEventSource(stack.tributary, { topic: 'orders', startingPosition: TRIM_HORIZON }),
    );
    const template = Template.fromStack(stack);
    const aliasArn = `<${logicalId(stack, alias)}>`;
    expect(dispatcherAccess(template, stack, stack.tributary).flatMap((s) => s.resources)).toEqual([
      aliasArn,
    ]);
    expect(triggerConfigs(template)[0]?.functionName).toBe(aliasArn);
  });

  it('gives an SQS destination SendMessage and GetQueueUrl on that queue (and its key), nothing else', () => {
    const app = testApp();
    const stack = new TributaryStack(app, 'Tributary', { env: ENV });
    const key = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
    const queue = new sqs.Queue(stack, 'Dlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
    });
    targetFunction(stack).addEventSource(
      new TributaryEventSource(stack.tributary, {
        topic: 'orders',
        startingPosition: TRIM_HORIZON,
        onFailure: queue,
      }),
    );
    const template = Template.fromStack(stack);
    const access = dispatcherAccess(template, stack, stack.tributary);
    expect(access.slice(1).map((s) => [s.actions, s.resources])).toEqual([
      [['sqs:GetQueueUrl', 'sqs:SendMessage'], [`<${logicalId(stack, queue)}.Arn>`]],
      [['kms:GenerateDataKey', 'kms:Decrypt'], [`<${logicalId(stack, key)}.Arn>`]],
    ]);
    expect(triggerConfigs(template)[0]?.destinationConfig).toEqual({
      onFailure: { destination: `<${logicalId(stack, queue)}.Arn>` },
    });
    // The dispatcher's own role gained nothing on the queue.
    const accessPolicy = access[0]?.policy;
    const sqsElsewhere = identityStatements(template).filter(
      (s) => s.policy !== accessPolicy && s.actions.some((a) => a.startsWith('sqs:')),
    );
    expect(sqsElsewhere).toEqual([]);
  });

  it("gives an S3 destination PutObject under the trigger's prefix only", () => {
    const app = testApp();
    const stack = new TributaryStack(app, 'Tributary', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Failures');
    targetFunction(stack).addEventSource(
      new TributaryEventSource(stack.tributary, {
        topic: 'orders',
        startingPosition: TRIM_HORIZON,
        onFailure: bucket,
        triggerName: 'orders-audit',
      }),
    );
    const template = Template.fromStack(stack);
    expect(
      dispatcherAccess(template, stack, stack.tributary)
        .slice(1)
        .map((s) => [s.actions, s.resources]),
    ).toEqual([
      [['s3:PutObject'], [`<${logicalId(stack, bucket)}.Arn>/aws/lambda/tributary/orders-audit/*`]],
    ]);
    expect(triggerConfigs(template)[0]?.destinationConfig).toEqual({
      onFailure: { destination: `<${logicalId(stack, bucket)}.Arn>` },
    });
  });

  it('sends dead letters to a Tributary topic with no grant beyond the function', () => {
    const { stack, template } = withEventSource({
      topic: 'orders',
      startingPosition: TRIM_HORIZON,
      onFailure: 'orders-dlq',
    });
    expect(dispatcherAccess(template, stack, stack.tributary)).toHaveLength(1);
    expect(triggerConfigs(template)[0]?.destinationConfig).toEqual({
      onFailure: { destination: 'tributary://orders-dlq' },
    });
  });

  it("puts the trigger and its grants in the function's stack when the function lives in another one", () => {
    const app = testApp();
    const home = new TributaryStack(app, 'Tributary', { env: ENV });
    const service = new Stack(app, 'Orders', { env: ENV });
    const fn = targetFunction(service);
    fn.addEventSource(
      new TributaryEventSource(home.tributary, { topic: 'orders', startingPosition: TRIM_HORIZON }),
    );
    const serviceTemplate = Template.fromStack(service);
    serviceTemplate.resourceCountIs('Custom::TributaryTrigger', 1);
    Template.fromStack(home).resourceCountIs('Custom::TributaryTrigger', 0);
    // The service stack refers to the Tributary stack (role, provider), never the other way round.
    expect(service.dependencies).toEqual([home]);
    expect(home.dependencies).toEqual([]);
  });

  it('refuses a function in another region, naming both', () => {
    const app = testApp();
    const home = new TributaryStack(app, 'Tributary', { env: ENV });
    const elsewhere = targetFunction(new Stack(app, 'Orders', { env: { ...ENV, region: 'eu-west-1' } }));
    const source = new TributaryEventSource(home.tributary, {
      topic: 'orders',
      startingPosition: TRIM_HORIZON,
    });
    expect(() => elsewhere.addEventSource(source)).toThrow(
      /TributaryEventSource: the function is in region eu-west-1 and the Tributary in us-east-1/,
    );
  });

  it('names a trigger after its construct path and create-only settings, so changing one replaces it', () => {
    const name = (props: Partial<TributaryEventSourceProps>) => {
      const { source } = withEventSource({ topic: 'orders', startingPosition: TRIM_HORIZON, ...props });
      return source.triggerName;
    };
    const base = name({});
    expect(base).toMatch(/^[a-zA-Z0-9-]{1,120}$/);
    expect(name({})).toBe(base);
    expect(name({ batchSize: 7, enabled: false })).toBe(base);
    for (const changed of [
      name({ topic: 'payments' }),
      name({ startingPosition: lambda.StartingPosition.LATEST }),
      name({ groupId: 'billing' }),
    ]) {
      expect(changed).not.toBe(base);
    }
    const unbound = new TributaryEventSource(
      withEventSource({ topic: 'x', startingPosition: TRIM_HORIZON }).stack.tributary,
      {
        topic: 'orders',
        startingPosition: TRIM_HORIZON,
      },
    );
    expect(() => unbound.triggerName).toThrow(/not yet bound/);
  });

  it('gives each event source of a function its own trigger, and binds an event source once', () => {
    const stack = new TributaryStack(testApp(), 'Tributary', { env: ENV });
    const fn = targetFunction(stack);
    const source = new TributaryEventSource(stack.tributary, {
      topic: 'orders',
      startingPosition: TRIM_HORIZON,
    });
    fn.addEventSource(source);
    fn.addEventSource(
      new TributaryEventSource(stack.tributary, { topic: 'orders', startingPosition: TRIM_HORIZON }),
    );
    expect(() => targetFunction(stack, 'Other').addEventSource(source)).toThrow(/already bound/);
    const names = triggerConfigs(Template.fromStack(stack)).map((c) => c.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  it('rejects bad props when constructed, naming the prop, the value and what is allowed', () => {
    const stack = new TributaryStack(testApp(), 'Tributary');
    const make = (props: Partial<TributaryEventSourceProps>) => () =>
      new TributaryEventSource(stack.tributary, {
        topic: 'orders',
        startingPosition: TRIM_HORIZON,
        ...props,
      });
    const cases: [Partial<TributaryEventSourceProps>, RegExp][] = [
      [
        { batchSize: 20_000 },
        /^TributaryEventSource: batchSize: 20000 is not allowed; allowed: an integer from 1 to 10000/,
      ],
      [{ batchSize: 0 }, /^TributaryEventSource: batchSize: 0 is not allowed/],
      [
        { retryAttempts: -2 },
        /^TributaryEventSource: retryAttempts: -2 is not allowed; allowed: an integer from -1 to 10000/,
      ],
      [
        { maxConcurrency: 0 },
        /^TributaryEventSource: maxConcurrency: 0 is not allowed; allowed: an integer from 1 to 1000/,
      ],
      [
        { maxBatchingWindow: Duration.minutes(6) },
        /^TributaryEventSource: maxBatchingWindow: 6 minutes is not allowed; use whole seconds from 0 to 300$/,
      ],
      [
        { maxBatchingWindow: Duration.millis(1500) },
        /^TributaryEventSource: maxBatchingWindow: 1 second 500 millis is not allowed/,
      ],
      [
        { maxRecordAge: Duration.seconds(30) },
        /^TributaryEventSource: maxRecordAge: 30 seconds is not allowed; use whole seconds from 60 to 604800$/,
      ],
      [{ maxRecordAge: Duration.days(8) }, /^TributaryEventSource: maxRecordAge: 8 days is not allowed/],
      [
        { topic: 'orders/eu' },
        /^TributaryEventSource: topic: "orders\/eu" is not allowed; allowed: 1-249 characters/,
      ],
      [{ triggerName: 'a b' }, /^TributaryEventSource: triggerName: "a b" is not allowed/],
      [{ groupId: 'g:1' }, /^TributaryEventSource: groupId: "g:1" is not allowed/],
      [
        { onFailure: 'orders' },
        /^TributaryEventSource: onFailure: "orders" is not allowed; the destination topic cannot be the trigger's own topic/,
      ],
      [{ onFailure: 'bad topic' }, /^TributaryEventSource: onFailure: "bad topic" is not allowed/],
      [
        { filters: Array.from({ length: 6 }, () => lambda.FilterCriteria.filter({ value: { a: ['b'] } })) },
        /^TributaryEventSource: filters: .* is not allowed; allowed: an array of at most 5/,
      ],
      [
        { filters: [{ pattern: '{"key":["a"]}' }] },
        /^TributaryEventSource: filters\[0\]\.pattern: .* is not allowed/,
      ],
      [
        { filters: [{ patern: '{}' }] },
        /^TributaryEventSource: filters\[0\]\.patern: "\{\}" is not allowed; it is not a trigger setting/,
      ],
      [
        { startingPositionTimestamp: 1_767_225_600 },
        /^TributaryEventSource: startingPositionTimestamp: 1767225600 is not allowed; it is only allowed with startingPosition AT_TIMESTAMP/,
      ],
      [
        { startingPosition: lambda.StartingPosition.AT_TIMESTAMP },
        /^TributaryEventSource: startingPositionTimestamp: undefined is not allowed; with AT_TIMESTAMP it is required/,
      ],
    ];
    for (const [props, message] of cases) expect(make(props), JSON.stringify(props)).toThrow(message);
    const fifo = new sqs.Queue(stack, 'Fifo', { fifo: true });
    expect(make({ onFailure: fifo })).toThrow(
      /^TributaryEventSource: onFailure: a FIFO queue is not supported/,
    );
    // The same settings, well-formed, are accepted.
    expect(
      make({
        startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
        startingPositionTimestamp: 1_767_225_600,
        maxBatchingWindow: Duration.seconds(0),
        maxRecordAge: Duration.days(7),
        retryAttempts: -1,
        onFailure: 'orders-dlq',
        filters: [lambda.FilterCriteria.filter({ value: { a: ['b'] } })],
      }),
    ).not.toThrow();
  });
});
