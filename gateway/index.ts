/**
 * The Kafka wire-protocol gateway's entry: {@link startGateway} and its options. The CLI
 * (`tributary gateway`) and the local stack start gateways through it.
 */
export { ADVERTISED_APIS } from './advertised-apis.ts';
export type { SaslPlainOptions } from './sasl.ts';
export { type Gateway, type GatewayOptions, type GatewayTlsOptions, startGateway } from './server.ts';
