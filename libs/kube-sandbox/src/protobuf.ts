/**
 * Decoding of the Kubernetes protobuf encoding for the kinds `kubectl create <generator>` sends
 * (namespace, configmap, secret, serviceaccount, deployment, job, service, cronjob): the "k8s\0"
 * envelope, runtime.Unknown, and the generated messages of k8s.io/api for those kinds. Unknown field
 * numbers are skipped; zero values of non-pointer fields are dropped, as Go's JSON `omitempty` would.
 */

type Json = Record<string, unknown>;

/** A field: JSON name, wire type, and (for messages) its schema. `keepZero` marks Go pointer fields. */
interface Field {
  name: string;
  type: 'string' | 'int' | 'bool' | 'bytes' | 'message' | 'map' | 'bytesmap' | 'quantitymap' | 'time' | 'intorstring';
  repeated?: boolean;
  schema?: () => Schema;
  keepZero?: boolean;
}
type Schema = Record<number, Field>;

const f = (name: string, type: Field['type'], extra: Partial<Field> = {}): Field => ({ name, type, ...extra });
const msg = (name: string, schema: () => Schema, extra: Partial<Field> = {}): Field => ({ name, type: 'message', schema, ...extra });

const OwnerReference: Schema = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool', { keepZero: true }),
  7: f('blockOwnerDeletion', 'bool', { keepZero: true }),
};
const ObjectMeta: Schema = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('generation', 'int'),
  8: f('creationTimestamp', 'time'),
  11: f('labels', 'map'),
  12: f('annotations', 'map'),
  13: msg('ownerReferences', () => OwnerReference, { repeated: true }),
  14: f('finalizers', 'string', { repeated: true }),
};
const LabelSelector: Schema = {
  1: f('matchLabels', 'map'),
  2: msg('matchExpressions', () => ({ 1: f('key', 'string'), 2: f('operator', 'string'), 3: f('values', 'string', { repeated: true }) }), {
    repeated: true,
  }),
};
const ContainerPort: Schema = {
  1: f('name', 'string'),
  2: f('hostPort', 'int'),
  3: f('containerPort', 'int'),
  4: f('protocol', 'string'),
  5: f('hostIP', 'string'),
};
const EnvVar: Schema = { 1: f('name', 'string'), 2: f('value', 'string') };
const Container: Schema = {
  1: f('name', 'string'),
  2: f('image', 'string'),
  3: f('command', 'string', { repeated: true }),
  4: f('args', 'string', { repeated: true }),
  5: f('workingDir', 'string'),
  6: msg('ports', () => ContainerPort, { repeated: true }),
  7: msg('env', () => EnvVar, { repeated: true }),
  8: msg('resources', () => ({ 1: f('limits', 'quantitymap'), 2: f('requests', 'quantitymap') })),
  13: f('terminationMessagePath', 'string'),
  14: f('imagePullPolicy', 'string'),
  16: f('stdin', 'bool'),
  17: f('stdinOnce', 'bool'),
  18: f('tty', 'bool'),
  20: f('terminationMessagePolicy', 'string'),
};
const PodSpec: Schema = {
  2: msg('containers', () => Container, { repeated: true }),
  3: f('restartPolicy', 'string'),
  4: f('terminationGracePeriodSeconds', 'int', { keepZero: true }),
  6: f('dnsPolicy', 'string'),
  7: f('nodeSelector', 'map'),
  8: f('serviceAccountName', 'string'),
  11: f('nodeName', 'string'),
  14: msg('securityContext', () => ({})),
  19: f('schedulerName', 'string'),
  20: msg('initContainers', () => Container, { repeated: true }),
};
const PodTemplateSpec: Schema = { 1: msg('metadata', () => ObjectMeta), 2: msg('spec', () => PodSpec) };
const DeploymentSpec: Schema = {
  1: f('replicas', 'int', { keepZero: true }),
  2: msg('selector', () => LabelSelector),
  3: msg('template', () => PodTemplateSpec),
  4: msg('strategy', () => ({
    1: f('type', 'string'),
    2: msg('rollingUpdate', () => ({ 1: f('maxUnavailable', 'intorstring'), 2: f('maxSurge', 'intorstring') })),
  })),
  5: f('minReadySeconds', 'int'),
  6: f('revisionHistoryLimit', 'int', { keepZero: true }),
  7: f('paused', 'bool'),
  9: f('progressDeadlineSeconds', 'int', { keepZero: true }),
};
const JobSpec: Schema = {
  1: f('parallelism', 'int', { keepZero: true }),
  2: f('completions', 'int', { keepZero: true }),
  3: f('activeDeadlineSeconds', 'int', { keepZero: true }),
  4: msg('selector', () => LabelSelector),
  5: f('manualSelector', 'bool', { keepZero: true }),
  6: msg('template', () => PodTemplateSpec),
  7: f('backoffLimit', 'int', { keepZero: true }),
  8: f('ttlSecondsAfterFinished', 'int', { keepZero: true }),
  10: f('suspend', 'bool', { keepZero: true }),
};
const ServicePort: Schema = {
  1: f('name', 'string'),
  2: f('protocol', 'string'),
  3: f('port', 'int'),
  4: f('targetPort', 'intorstring'),
  5: f('nodePort', 'int'),
};
const ServiceSpec: Schema = {
  1: msg('ports', () => ServicePort, { repeated: true }),
  2: f('selector', 'map'),
  3: f('clusterIP', 'string'),
  4: f('type', 'string'),
  10: f('externalName', 'string'),
};

function withMeta(spec: Schema): Schema {
  return { 1: msg('metadata', () => ObjectMeta), 2: msg('spec', () => spec) };
}

const DeleteOptions: Schema = {
  1: f('gracePeriodSeconds', 'int', { keepZero: true }),
  2: msg('preconditions', () => ({ 1: f('uid', 'string'), 2: f('resourceVersion', 'string') })),
  3: f('orphanDependents', 'bool', { keepZero: true }),
  4: f('propagationPolicy', 'string'),
  5: f('dryRun', 'string', { repeated: true }),
};

const KINDS: Record<string, Schema> = {
  'v1/Namespace': withMeta({ 1: f('finalizers', 'string', { repeated: true }) }),
  'v1/DeleteOptions': DeleteOptions,
  'meta.k8s.io/v1/DeleteOptions': DeleteOptions,
  'v1/ConfigMap': {
    1: msg('metadata', () => ObjectMeta),
    2: f('data', 'map'),
    3: f('binaryData', 'bytesmap'),
    4: f('immutable', 'bool', { keepZero: true }),
  },
  'v1/Secret': {
    1: msg('metadata', () => ObjectMeta),
    2: f('data', 'bytesmap'),
    3: f('type', 'string'),
    4: f('stringData', 'map'),
    5: f('immutable', 'bool', { keepZero: true }),
  },
  'v1/ServiceAccount': {
    1: msg('metadata', () => ObjectMeta),
    3: msg('imagePullSecrets', () => ({ 1: f('name', 'string') }), { repeated: true }),
    4: f('automountServiceAccountToken', 'bool', { keepZero: true }),
  },
  'v1/Service': withMeta(ServiceSpec),
  'apps/v1/Deployment': withMeta(DeploymentSpec),
  'batch/v1/Job': withMeta(JobSpec),
  'batch/v1/CronJob': withMeta({
    1: f('schedule', 'string'),
    2: f('startingDeadlineSeconds', 'int', { keepZero: true }),
    3: f('concurrencyPolicy', 'string'),
    4: f('suspend', 'bool', { keepZero: true }),
    5: msg('jobTemplate', () => ({ 1: msg('metadata', () => ObjectMeta), 2: msg('spec', () => JobSpec) })),
    6: f('successfulJobsHistoryLimit', 'int', { keepZero: true }),
    7: f('failedJobsHistoryLimit', 'int', { keepZero: true }),
    8: f('timeZone', 'string'),
  }),
};

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtobufError('varint too long');
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new ProtobufError('truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

/** Raw fields of one message: field number -> [wire type, value] in order. */
function fields(buf: Buffer): [number, number, bigint | Buffer][] {
  const r = new Reader(buf);
  const out: [number, number, bigint | Buffer][] = [];
  while (!r.done) {
    const key = Number(r.varint());
    const num = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push([num, wire, r.varint()]);
    else if (wire === 2) out.push([num, wire, r.bytes()]);
    else r.skip(wire);
  }
  return out;
}

function toInt(v: bigint): number {
  // int32/int64 fields: negative values come as 64-bit two's complement
  return Number(BigInt.asIntN(64, v));
}

function decodeMap(buf: Buffer, valueAs: 'string' | 'bytes' | 'quantity'): [string, unknown] {
  let key = '';
  let value: unknown = valueAs === 'bytes' ? '' : '';
  for (const [num, , v] of fields(buf)) {
    if (num === 1 && Buffer.isBuffer(v)) key = v.toString('utf8');
    if (num === 2 && Buffer.isBuffer(v)) {
      if (valueAs === 'bytes') value = v.toString('base64');
      else if (valueAs === 'quantity')
        value =
          fields(v)
            .find(([n]) => n === 1)?.[2]
            ?.toString() ?? '';
      else value = v.toString('utf8');
    }
  }
  return [key, value];
}

function decodeMessage(buf: Buffer, schema: Schema): Json {
  const out: Json = {};
  for (const [num, wire, v] of fields(buf)) {
    const field = schema[num];
    if (!field) continue;
    let value: unknown;
    switch (field.type) {
      case 'string':
        if (!Buffer.isBuffer(v)) continue;
        value = v.toString('utf8');
        break;
      case 'bytes':
        if (!Buffer.isBuffer(v)) continue;
        value = v.toString('base64');
        break;
      case 'int':
        if (wire !== 0) continue;
        value = toInt(v as bigint);
        break;
      case 'bool':
        if (wire !== 0) continue;
        value = (v as bigint) !== 0n;
        break;
      case 'message':
        if (!Buffer.isBuffer(v)) continue;
        value = decodeMessage(v, field.schema!());
        break;
      case 'time': {
        if (!Buffer.isBuffer(v)) continue;
        const secs = fields(v).find(([n]) => n === 1)?.[2];
        if (typeof secs !== 'bigint' || secs === 0n) continue;
        value = new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        break;
      }
      case 'intorstring': {
        if (!Buffer.isBuffer(v)) continue;
        const parts = fields(v);
        const type = parts.find(([n]) => n === 1)?.[2];
        const intVal = parts.find(([n]) => n === 2)?.[2];
        const strVal = parts.find(([n]) => n === 3)?.[2];
        value = type === 1n ? (Buffer.isBuffer(strVal) ? strVal.toString('utf8') : '') : typeof intVal === 'bigint' ? toInt(intVal) : 0;
        break;
      }
      case 'map':
      case 'bytesmap':
      case 'quantitymap': {
        if (!Buffer.isBuffer(v)) continue;
        const [k, mv] = decodeMap(v, field.type === 'map' ? 'string' : field.type === 'bytesmap' ? 'bytes' : 'quantity');
        const m = (out[field.name] as Json | undefined) ?? {};
        m[k] = mv;
        out[field.name] = m;
        continue;
      }
    }
    if (field.repeated) {
      const list = (out[field.name] as unknown[] | undefined) ?? [];
      list.push(value);
      out[field.name] = list;
    } else {
      if (!field.keepZero && (value === 0 || value === false || value === '')) continue;
      out[field.name] = value;
    }
  }
  return out;
}

/** Decodes a `application/vnd.kubernetes.protobuf` body into a JSON object; throws ProtobufError. */
export function decodeKubernetesProtobuf(body: Buffer): Json {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new ProtobufError('missing the k8s protobuf envelope');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  for (const [num, , v] of fields(body.subarray(4))) {
    if (num === 1 && Buffer.isBuffer(v)) {
      for (const [n, , tv] of fields(v)) {
        if (n === 1 && Buffer.isBuffer(tv)) apiVersion = tv.toString('utf8');
        if (n === 2 && Buffer.isBuffer(tv)) kind = tv.toString('utf8');
      }
    }
    if (num === 2 && Buffer.isBuffer(v)) raw = v;
  }
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema) throw new ProtobufError(`protobuf bodies of ${apiVersion || '?'}/${kind || '?'} are not supported; send JSON or YAML`);
  const obj = decodeMessage(raw ?? Buffer.alloc(0), schema);
  return { apiVersion, kind, ...obj };
}
