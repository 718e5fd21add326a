/**
 * Addresses the outbound address policy (src/workspaces/address-policy.ts) must refuse, one
 * group per range with samples at its edges, plus the IPv6 forms that carry each IPv4
 * sample (IPv4-mapped in dotted and hex notation, NAT64, 6to4). Shared by the policy's own
 * tests and those of every caller (repository URLs, callback URLs), so a range added to one
 * list is tested everywhere. Nothing here is ever connected to.
 */

export interface RefusedRange {
  cidr: string;
  samples: string[];
}

const V4: RefusedRange[] = [
  { cidr: '0.0.0.0/8', samples: ['0.0.0.0', '0.255.255.255'] },
  { cidr: '10.0.0.0/8', samples: ['10.0.0.1', '10.255.255.255'] },
  { cidr: '100.64.0.0/10', samples: ['100.64.0.0', '100.127.255.255'] },
  { cidr: '127.0.0.0/8', samples: ['127.0.0.1', '127.255.255.254'] },
  { cidr: '169.254.0.0/16', samples: ['169.254.169.254', '169.254.0.1'] },
  { cidr: '172.16.0.0/12', samples: ['172.16.0.1', '172.31.255.255'] },
  { cidr: '192.0.0.0/24', samples: ['192.0.0.1', '192.0.0.170'] },
  { cidr: '192.0.2.0/24', samples: ['192.0.2.1'] },
  { cidr: '192.88.99.0/24', samples: ['192.88.99.1'] },
  { cidr: '192.168.0.0/16', samples: ['192.168.0.1', '192.168.255.255'] },
  { cidr: '198.18.0.0/15', samples: ['198.18.0.1', '198.19.255.255'] },
  { cidr: '198.51.100.0/24', samples: ['198.51.100.7'] },
  { cidr: '203.0.113.0/24', samples: ['203.0.113.7'] },
  { cidr: '224.0.0.0/4', samples: ['224.0.0.1', '239.255.255.250'] },
  { cidr: '240.0.0.0/4', samples: ['240.0.0.1', '255.255.255.254'] },
  { cidr: '255.255.255.255/32', samples: ['255.255.255.255'] },
];

const hex = (v4: string): string => {
  const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
};

/** The IPv6 spellings of an IPv4 address that reach (or stand for) that address. */
export function embeddedForms(v4: string): string[] {
  return [
    `::ffff:${v4}`,
    `::ffff:${hex(v4)}`,
    `64:ff9b::${v4}`,
    `64:ff9b::${hex(v4)}`,
    `2002:${hex(v4)}::1`,
  ];
}

const V6: RefusedRange[] = [
  { cidr: '::/128', samples: ['::'] },
  { cidr: '::1/128', samples: ['::1', '0:0:0:0:0:0:0:1'] },
  // IPv4-compatible: deprecated, refused whatever address it carries.
  { cidr: '::/96', samples: ['::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '::808:808'] },
  { cidr: '::ffff:0:0:0/96', samples: ['::ffff:0:7f00:1', '::ffff:0:808:808'] },
  { cidr: '64:ff9b:1::/48', samples: ['64:ff9b:1::a9fe:a9fe'] },
  { cidr: '100::/64', samples: ['100::1'] },
  { cidr: 'fc00::/7', samples: ['fc00::1', 'fd12:3456::1', 'fdff:ffff::1'] },
  { cidr: 'fe80::/10', samples: ['fe80::1', 'febf::1', 'fe80::1%lo'] },
  { cidr: 'fec0::/10', samples: ['fec0::1', 'feff::1'] },
  { cidr: 'ff00::/8', samples: ['ff02::1', 'ff05::1:3'] },
  { cidr: '2001::/32 (Teredo)', samples: ['2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2'] },
  { cidr: '2001::/23', samples: ['2001:2::1', '2001:1ff::1'] },
  { cidr: '2001:db8::/32', samples: ['2001:db8::1', '2001:db8:ffff::1'] },
  { cidr: '3fff::/20', samples: ['3fff::1'] },
  { cidr: 'outside 2000::/3', samples: ['5f00::1', '4000::1', '1fff:ffff::1'] },
];

/** Every refused range: IPv4, the IPv6 forms of each IPv4 sample, then IPv6. */
export const REFUSED_RANGES: RefusedRange[] = [
  ...V4,
  ...V4.map((r) => ({
    cidr: `${r.cidr} in IPv6 forms`,
    samples: r.samples.flatMap(embeddedForms),
  })),
  ...V6,
];

/** Public addresses, near the edges of refused ranges and in each embedding form. */
export const PUBLIC_ADDRESSES = [
  '8.8.8.8',
  '1.1.1.1',
  '140.82.112.3',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.0',
  '192.167.255.255',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2606:4700::1111',
  '2a00:1450:4001::200e',
  '2001:200::1',
  ...embeddedForms('8.8.8.8'),
];
