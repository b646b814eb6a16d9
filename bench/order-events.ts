/**
 * A realistic JSON workload for the compression figures: order events of about 1 KB, the kind of
 * record an application team streams (repeated field names, enumerations, ids, timestamps,
 * addresses, line items, prices). Generated from a seed, so every run and every codec sees the
 * same bytes.
 */

/** mulberry32: a small seeded PRNG (benchmarks cannot import the tests' one). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENT_TYPES = ['order.created', 'order.paid', 'order.packed', 'order.shipped', 'order.delivered'];
const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'Alan',
  'Edsger',
];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen'];
const CITIES: readonly (readonly [string, string, string])[] = [
  ['Seattle', 'WA', 'US'],
  ['Austin', 'TX', 'US'],
  ['Dublin', 'D', 'IE'],
  ['Berlin', 'BE', 'DE'],
  ['Lyon', 'ARA', 'FR'],
  ['Toronto', 'ON', 'CA'],
  ['Osaka', '27', 'JP'],
  ['Porto', '13', 'PT'],
];
const STREETS = ['Main Street', 'Harbour Road', 'Elm Avenue', 'Station Square', 'Mill Lane', 'Park Row'];
const PRODUCTS: readonly (readonly [string, string, number])[] = [
  ['SKU-10042', 'Stainless steel water bottle, 750 ml', 24.9],
  ['SKU-20017', 'Merino wool hiking socks (2 pairs)', 29.0],
  ['SKU-30311', 'Noise-cancelling wireless headphones', 199.0],
  ['SKU-40598', 'Organic cotton t-shirt, navy', 19.5],
  ['SKU-51230', 'Cast iron skillet, 26 cm', 44.0],
  ['SKU-60004', 'Paperback: Designing Data-Intensive Applications', 39.99],
  ['SKU-70881', 'USB-C charging cable, 2 m', 12.99],
  ['SKU-81177', 'Espresso beans, single origin, 1 kg', 27.5],
];
const PAYMENT_METHODS = ['card', 'paypal', 'apple_pay', 'bank_transfer'];
const CHANNELS = ['web', 'ios', 'android', 'marketplace'];
const CARRIERS = ['UPS', 'DHL', 'FedEx', 'La Poste'];

/** A deterministic sequence of order events as JSON bytes. */
export function orderEvents(count: number, seed: number): Buffer[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const hex = (digits: number) =>
    Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  const cents = (value: number) => Math.round(value * 100) / 100;
  let time = Date.UTC(2026, 10, 24, 9, 0, 0);
  const events: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    time += Math.floor(random() * 2_000);
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const [city, region, country] = pick(CITIES);
    const items = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
      const [sku, name, price] = pick(PRODUCTS);
      const quantity = 1 + Math.floor(random() * 3);
      return { sku, name, quantity, unitPrice: price, lineTotal: cents(price * quantity) };
    });
    const subtotal = cents(items.reduce((sum, item) => sum + item.lineTotal, 0));
    const tax = cents(subtotal * 0.08);
    const shipping = subtotal > 50 ? 0 : 4.95;
    const event = {
      eventId: uuid(),
      type: pick(EVENT_TYPES),
      occurredAt: new Date(time).toISOString(),
      schemaVersion: 3,
      orderId: `ord_${hex(16)}`,
      customer: {
        id: `cus_${hex(12)}`,
        name: `${first} ${last}`,
        email: `${first.toLowerCase()}.${last.toLowerCase()}${Math.floor(random() * 100)}@example.com`,
        tier: pick(['standard', 'plus', 'business']),
      },
      shippingAddress: {
        line1: `${1 + Math.floor(random() * 200)} ${pick(STREETS)}`,
        city,
        region,
        postalCode: String(10_000 + Math.floor(random() * 89_999)),
        country,
      },
      currency: country === 'US' ? 'USD' : country === 'CA' ? 'CAD' : country === 'JP' ? 'JPY' : 'EUR',
      items,
      totals: { subtotal, tax, shipping, total: cents(subtotal + tax + shipping) },
      payment: { method: pick(PAYMENT_METHODS), status: 'captured', reference: `pay_${hex(20)}` },
      fulfilment: { carrier: pick(CARRIERS), warehouse: `wh-${pick(['iad', 'dub', 'fra', 'nrt'])}-1` },
      channel: pick(CHANNELS),
      trace: { traceId: hex(32), spanId: hex(16), sampled: random() < 0.1 },
    };
    events.push(Buffer.from(JSON.stringify(event)));
  }
  return events;
}
