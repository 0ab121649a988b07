/**
 * The syntax rules the Kubernetes API server applies to names, labels and annotations
 * (k8s.io/apimachinery/pkg/util/validation), as predicates.
 */

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Total size of all annotation keys and values of one object. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** A DNS-1123 label: container and volume names, namespaces. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS_1123_LABEL.test(value);
}

/** A DNS-1123 subdomain: object names, the prefix of label keys. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(part => DNS_1123_LABEL.test(part));
}

/** A DNS-1035 label (Service names and hostnames); `maxLength` lets callers check the length apart. */
export function isDns1035Label(value: string, maxLength = 63): boolean {
  return value.length <= maxLength && DNS_1035_LABEL.test(value);
}

/** Answers of a string predicate kept for the strings asked again (label keys repeat on every job of a sweep). */
function remembered(predicate: (value: string) => boolean): (value: string) => boolean {
  const answers = new Map<string, boolean>();
  return value => {
    let answer = answers.get(value);
    if (answer === undefined) {
      if (answers.size >= 10_000) answers.clear();
      answer = predicate(value);
      answers.set(value, answer);
    }
    return answer;
  };
}

/** A qualified name (`[prefix/]name`): label, annotation and nodeSelector keys. */
export const isQualifiedName = remembered(qualifiedName);

function qualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  const prefix = parts.length === 2 ? parts[0] : undefined;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

/** A label value: empty, or at most 63 characters of the qualified-name alphabet. */
export const isLabelValue = remembered(value => value === '' || (value.length <= 63 && QUALIFIED_NAME_PART.test(value)));

/** An IANA service name: container port names. */
export function isPortName(value: string): boolean {
  return value.length <= 15 && IANA_SERVICE_NAME.test(value) && /[a-z]/.test(value) && !value.includes('--');
}

/** An environment variable name. */
export function isEnvVarName(value: string): boolean {
  return ENV_VAR_NAME.test(value);
}
