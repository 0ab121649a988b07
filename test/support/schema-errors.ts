import { ErrorObject } from 'ajv';

/** `/spec/containers/0/name` → `spec.containers[0].name`; the empty pointer is `(root)`. */
export function fieldPath(instancePath: string): string {
  if (instancePath === '') return '(root)';
  return instancePath.slice(1).split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, token) => /^[0-9]+$/.test(token) ? `${path}[${token}]` : path === '' ? token : `${path}.${token}`, '');
}

function child(path: string, name: string): string {
  return path === '(root)' ? name : `${path}.${name}`;
}

function valueAt(root: any, instancePath: string): any {
  if (instancePath === '') return root;
  return instancePath.slice(1).split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((value, token) => value?.[token], root);
}

function show(value: any): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'undefined' : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describe(error: ErrorObject, value: any): string {
  const path = fieldPath(error.instancePath);
  const params: any = error.params;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${child(path, params.additionalProperty)}: unknown field`;
    case 'required':
      return `${child(path, params.missingProperty)}: required field is missing`;
    case 'type':
      return `${path}: must be ${params.type}, got ${show(value)}`;
    case 'enum':
      return `${path}: must be one of ${params.allowedValues.map(show).join(', ')}, got ${show(value)}`;
    case 'pattern':
      return `${path}: ${show(value)} does not match ${params.pattern}`;
    case 'format':
      return `${path}: ${show(value)} is not a valid ${params.format}`;
    case 'x-kubernetes-list-type':
      return `${path}: ${error.message}`;
    default:
      return `${path}: ${error.message}, got ${show(value)}`;
  }
}

/**
 * Turns ajv errors into one readable line per problem: `<field path>: <what is wrong>`.
 * An anyOf/oneOf failure (int-or-string, quantities) becomes one line that lists what each
 * branch wanted, instead of one line per branch.
 */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, data: any): string[] {
  const all = errors ?? [];
  const alternatives = new Set(all.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf').map(e => e.instancePath));
  const lines: string[] = [];
  for (const path of alternatives) {
    const wanted = all
      .filter(e => e.instancePath === path && e.keyword !== 'anyOf' && e.keyword !== 'oneOf')
      .map(e => e.message ?? e.keyword);
    lines.push(`${fieldPath(path)}: ${show(valueAt(data, path))} ${wanted.length > 0 ? wanted.join(' or ') : 'matches none of the allowed schemas'}`);
  }
  for (const error of all) {
    if (alternatives.has(error.instancePath)) continue;
    lines.push(describe(error, valueAt(data, error.instancePath)));
  }
  return [...new Set(lines)];
}
