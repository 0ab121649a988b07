import { stringify } from 'yaml';

/** One piece of secret material found in synthesized output. */
export interface SecretFinding {
  readonly kind: string;
  readonly excerpt: string;
}

const CREDENTIAL_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)/i;
const TEXT_PATTERNS: Array<[string, RegExp]> = [
  ['PEM block', /-----BEGIN [A-Z ]*-----/g],
  ['SSH public key', /\b(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]{20,}/g],
  ['AWS access key id', /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g],
  ['opaque token', /(?<![A-Za-z0-9+=_-])(?=[A-Za-z0-9+=_-]*[0-9])(?=[A-Za-z0-9+=_-]*[A-Za-z])[A-Za-z0-9+=_-]{32,}/g],
];

function walk(value: any, visit: (key: string, value: any, parent: any) => void): void {
  if (Array.isArray(value)) {
    value.forEach(v => walk(v, visit));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v, value);
      walk(v, visit);
    }
  }
}

/**
 * Scans synthesized manifests for secret material: Secret objects, data blobs, key and token
 * patterns in the YAML text, and literal values of credential-named variables.
 */
export function scanForSecrets(manifests: any[]): SecretFinding[] {
  const found: SecretFinding[] = [];
  for (const m of manifests) {
    if (m.kind === 'Secret') found.push({ kind: 'Secret object', excerpt: m.metadata?.name ?? '' });
    walk(m, (key, value, parent) => {
      if ((key === 'data' || key === 'stringData' || key === 'binaryData') && m.kind !== 'ConfigMap') {
        found.push({ kind: `${key} field`, excerpt: `${m.kind}/${m.metadata?.name}` });
      }
      if (key === 'value' && typeof value === 'string' && value !== '' && typeof parent.name === 'string' && CREDENTIAL_NAME.test(parent.name)) {
        found.push({ kind: 'credential-named variable', excerpt: parent.name });
      }
    });
  }
  const text = manifests.map(m => stringify(m)).join('---\n');
  for (const [kind, pattern] of TEXT_PATTERNS) {
    for (const match of text.matchAll(pattern)) found.push({ kind, excerpt: match[0].slice(0, 60) });
  }
  return found;
}
