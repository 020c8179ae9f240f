/**
 * Defaulting of the built-in kinds, as a real API server (1.32) does it: the generated `SetDefaults_*`
 * functions of k8s.io/api plus the admission plugins a default cluster runs on Pods (ServiceAccount,
 * DefaultTolerationSeconds, Priority) and the registry strategies that allocate or generate fields
 * (Service cluster IPs and node ports, Job selectors).
 *
 * `applyDefaults` mutates the object in place, never overwrites a value the user set (the one exception
 * is the `kubernetes.io/metadata.name` label of a Namespace, which a real server also forces) and is
 * idempotent: the server may call it on every create, update, patch and apply.
 */
import type { KubeObject, ResourceType } from './types.js';

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `parent[key]`, created (as {}) when absent. */
function child(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isObj(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

/** The object at `parent[key]` if there is one (never creates). */
function existing(parent: Obj, key: string): Obj | undefined {
  const value = parent[key];
  return isObj(value) ? value : undefined;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

function objects(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isObj) : [];
}

/** Applies the server's defaults for the object's kind; unknown kinds are left untouched. */
export function applyDefaults(resource: ResourceType, object: KubeObject): void {
  const fn = DEFAULTERS[`${resource.group}/${resource.kind}`];
  if (fn) fn(object);
}

const DEFAULTERS: Record<string, (object: KubeObject) => void> = {
  '/Pod': defaultPod,
  '/Service': defaultService,
  '/Namespace': defaultNamespace,
  '/Secret': (o) => setDefault(o, 'type', 'Opaque'),
  '/PersistentVolumeClaim': (o) => defaultPvcSpec(child(o, 'spec')),
  '/PersistentVolume': defaultPersistentVolume,
  '/Endpoints': defaultEndpoints,
  '/ReplicationController': (o) => {
    const spec = child(o, 'spec');
    setDefault(spec, 'replicas', 1);
    defaultPodTemplate(spec);
  },
  '/PodTemplate': (o) => defaultPodTemplate(o),
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': (o) => {
    const spec = child(o, 'spec');
    setDefault(spec, 'replicas', 1);
    defaultPodTemplate(spec);
  },
  'apps/StatefulSet': defaultStatefulSet,
  'apps/DaemonSet': defaultDaemonSet,
  'batch/Job': defaultJob,
  'batch/CronJob': defaultCronJob,
  'autoscaling/HorizontalPodAutoscaler': defaultHpa,
  'rbac.authorization.k8s.io/RoleBinding': defaultBinding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': defaultBinding,
  'networking.k8s.io/NetworkPolicy': defaultNetworkPolicy,
  'networking.k8s.io/IngressClass': () => undefined,
  'networking.k8s.io/Ingress': () => undefined, // pathType is required, backends have no defaults
};

// ---------------------------------------------------------------------------------------------------
// Workloads

function defaultDeployment(object: KubeObject): void {
  const spec = child(object, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec);
}

function defaultStatefulSet(object: KubeObject): void {
  const spec = child(object, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') setDefault(child(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'revisionHistoryLimit', 10);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  for (const claim of objects(spec['volumeClaimTemplates'])) {
    setDefault(claim, 'apiVersion', 'v1');
    setDefault(claim, 'kind', 'PersistentVolumeClaim');
    defaultPvcSpec(child(claim, 'spec'));
    setDefault(child(claim, 'status'), 'phase', 'Pending');
  }
  defaultPodTemplate(spec);
}

function defaultDaemonSet(object: KubeObject): void {
  const spec = child(object, 'spec');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = child(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', 1);
    setDefault(rolling, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec);
}

export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

function defaultJob(object: KubeObject): void {
  const spec = child(object, 'spec');
  if (spec['completions'] == null && spec['parallelism'] == null) {
    spec['completions'] = 1;
    spec['parallelism'] = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec['backoffLimitPerIndex'] != null ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', spec['podFailurePolicy'] != null ? 'Failed' : 'TerminatingOrFailed');
  // The registry strategy generates the selector and the template labels from the Job's uid (unless the
  // user asked for manualSelector). The uid exists only once the server assigned it.
  const uid = object.metadata.uid;
  const name = object.metadata.name;
  if (spec['manualSelector'] !== true && uid && name) {
    const template = child(spec, 'template');
    const labels = child(child(template, 'metadata'), 'labels') as Record<string, unknown>;
    setDefault(labels, JOB_LABELS.controllerUid, uid);
    setDefault(labels, JOB_LABELS.jobName, name);
    setDefault(labels, JOB_LABELS.legacyControllerUid, uid);
    setDefault(labels, JOB_LABELS.legacyJobName, name);
    if (!isObj(spec['selector'])) spec['selector'] = { matchLabels: { [JOB_LABELS.controllerUid]: uid } };
  }
  // restartPolicy of a Job's pods is required (Never or OnFailure): a real server would default it to
  // Always and then reject the Job, so it is left as given.
  defaultPodTemplate(spec, { restartPolicy: false });
}

function defaultCronJob(object: KubeObject): void {
  const spec = child(object, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  // SetDefaults_Job applies to Job objects only: a jobTemplate's JobSpec keeps its unset fields, but its
  // pod template is defaulted.
  const jobSpec = existing(child(spec, 'jobTemplate'), 'spec');
  if (jobSpec) defaultPodTemplate(jobSpec, { restartPolicy: false });
}

function defaultHpa(object: KubeObject): void {
  const spec = child(object, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (object.apiVersion === 'autoscaling/v1') return;
  if (!Array.isArray(spec['metrics']) || spec['metrics'].length === 0) {
    spec['metrics'] = [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ];
  }
  // Behavior is filled in only when the user gave one (SetDefaults_HorizontalPodAutoscalerBehavior).
  const behavior = existing(spec, 'behavior');
  if (!behavior) return;
  const up = child(behavior, 'scaleUp');
  setDefault(up, 'stabilizationWindowSeconds', 0);
  setDefault(up, 'selectPolicy', 'Max');
  if (!Array.isArray(up['policies']) || up['policies'].length === 0) {
    up['policies'] = [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ];
  }
  const down = child(behavior, 'scaleDown');
  setDefault(down, 'stabilizationWindowSeconds', 300);
  setDefault(down, 'selectPolicy', 'Max');
  if (!Array.isArray(down['policies']) || down['policies'].length === 0) {
    down['policies'] = [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  }
}

// ---------------------------------------------------------------------------------------------------
// Pods and pod templates

interface PodSpecDefaultOptions {
  /** Whether restartPolicy gets its default (Always). */
  restartPolicy: boolean;
}

/** Defaults `holder.template.spec` (a PodTemplateSpec), if there is a template. */
function defaultPodTemplate(holder: Obj, options: PodSpecDefaultOptions = { restartPolicy: true }): void {
  const template = existing(holder, 'template');
  if (!template) return;
  defaultPodSpec(child(template, 'spec'), options);
}

function defaultPod(object: KubeObject): void {
  const spec = child(object, 'spec');
  defaultPodSpec(spec, { restartPolicy: true });
  // SetDefaults_Pod (not templates): requests default to limits, service links on, host ports.
  for (const container of [...objects(spec['containers']), ...objects(spec['initContainers'])]) {
    const resources = existing(container, 'resources');
    const limits = resources ? existing(resources, 'limits') : undefined;
    if (resources && limits && Object.keys(limits).length > 0) {
      const requests = child(resources, 'requests');
      for (const [name, quantity] of Object.entries(limits)) setDefault(requests, name, quantity);
    }
  }
  setDefault(spec, 'enableServiceLinks', true);
  // Admission: ServiceAccount, Priority, DefaultTolerationSeconds.
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec['serviceAccountName']);
  if (spec['priorityClassName'] == null) setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const tolerations = Array.isArray(spec['tolerations']) ? (spec['tolerations'] as unknown[]) : [];
  const tolerates = (key: string): boolean =>
    objects(tolerations).some(
      (t) =>
        (t['key'] === key || (t['key'] == null && t['operator'] === 'Exists')) &&
        (t['effect'] == null || t['effect'] === '' || t['effect'] === 'NoExecute'),
    );
  const added: Obj[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  if (added.length > 0) spec['tolerations'] = [...tolerations, ...added];
}

function defaultPodSpec(spec: Obj, options: PodSpecDefaultOptions): void {
  if (options.restartPolicy) setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  // The deprecated serviceAccount field mirrors serviceAccountName on conversion.
  if (typeof spec['serviceAccountName'] === 'string') setDefault(spec, 'serviceAccount', spec['serviceAccountName']);
  const hostNetwork = spec['hostNetwork'] === true;
  for (const container of objects(spec['containers'])) defaultContainer(container, hostNetwork);
  for (const container of objects(spec['initContainers'])) defaultContainer(container, hostNetwork);
  for (const container of objects(spec['ephemeralContainers'])) defaultContainer(container, hostNetwork);
  for (const volume of objects(spec['volumes'])) defaultVolume(volume);
}

/** Always for `:latest` or an untagged image, IfNotPresent otherwise (a digest counts as a tag). */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: Obj, hostNetwork: boolean): void {
  if (typeof container['image'] === 'string') setDefault(container, 'imagePullPolicy', defaultImagePullPolicy(container['image']));
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  setDefault(container, 'resources', {});
  for (const port of objects(container['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    if (hostNetwork && port['hostPort'] == null && port['containerPort'] != null) port['hostPort'] = port['containerPort'];
  }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const value = existing(container, probe);
    if (value) defaultProbe(value);
  }
  const lifecycle = existing(container, 'lifecycle');
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) {
      const handler = existing(lifecycle, hook);
      const httpGet = handler ? existing(handler, 'httpGet') : undefined;
      if (httpGet) defaultHttpGet(httpGet);
    }
  }
  for (const env of objects(container['env'])) {
    const valueFrom = existing(env, 'valueFrom');
    if (!valueFrom) continue;
    const fieldRef = existing(valueFrom, 'fieldRef');
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
    const resourceFieldRef = existing(valueFrom, 'resourceFieldRef');
    if (resourceFieldRef) setDefault(resourceFieldRef, 'divisor', '0');
  }
}

function defaultProbe(probe: Obj): void {
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  const httpGet = existing(probe, 'httpGet');
  if (httpGet) defaultHttpGet(httpGet);
  const grpc = existing(probe, 'grpc');
  if (grpc) setDefault(grpc, 'service', '');
}

function defaultHttpGet(action: Obj): void {
  if (action['path'] == null || action['path'] === '') action['path'] = '/';
  setDefault(action, 'scheme', 'HTTP');
}

function defaultVolume(volume: Obj): void {
  const sources = Object.keys(volume).filter((k) => k !== 'name');
  if (sources.length === 0) volume['emptyDir'] = {};
  for (const kind of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    const source = existing(volume, kind);
    if (source) setDefault(source, 'defaultMode', 420);
  }
  const downward = existing(volume, 'downwardAPI');
  if (downward) defaultDownwardItems(downward['items']);
  const projected = existing(volume, 'projected');
  if (projected) {
    for (const source of objects(projected['sources'])) {
      const d = existing(source, 'downwardAPI');
      if (d) defaultDownwardItems(d['items']);
      const token = existing(source, 'serviceAccountToken');
      if (token) setDefault(token, 'expirationSeconds', 3600);
    }
  }
  const hostPath = existing(volume, 'hostPath');
  if (hostPath) setDefault(hostPath, 'type', '');
  const iscsi = existing(volume, 'iscsi');
  if (iscsi) setDefault(iscsi, 'iscsiInterface', 'default');
  const rbd = existing(volume, 'rbd');
  if (rbd) {
    setDefault(rbd, 'pool', 'rbd');
    setDefault(rbd, 'user', 'admin');
    setDefault(rbd, 'keyring', '/etc/ceph/keyring');
  }
  const azureDisk = existing(volume, 'azureDisk');
  if (azureDisk) {
    setDefault(azureDisk, 'cachingMode', 'ReadWrite');
    setDefault(azureDisk, 'fsType', 'ext4');
    setDefault(azureDisk, 'readOnly', false);
    setDefault(azureDisk, 'kind', 'Shared');
  }
}

function defaultDownwardItems(items: unknown): void {
  for (const item of objects(items)) {
    const fieldRef = existing(item, 'fieldRef');
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
    const resourceFieldRef = existing(item, 'resourceFieldRef');
    if (resourceFieldRef) setDefault(resourceFieldRef, 'divisor', '0');
  }
}

// ---------------------------------------------------------------------------------------------------
// Services: defaults plus the registry's allocation of cluster IPs and node ports.

/**
 * Process-wide allocations, keyed by `namespace/name` so that a Service that lost its clusterIP in a
 * replace (PUT without the field) gets the same address back, as a real server keeps it.
 */
const clusterIps = new Map<string, string>();
const usedClusterIps = new Set<string>();
const nodePorts = new Map<string, number>();
const usedNodePorts = new Set<number>();

const CLUSTER_IP_BASE = (10 << 24) | (96 << 16); // 10.96.0.0/12
const CLUSTER_IP_SIZE = 1 << 20;
const NODE_PORT_MIN = 30000;
const NODE_PORT_COUNT = 32767 - 30000 + 1;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function ipToString(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function allocateClusterIp(key: string): string {
  const known = clusterIps.get(key);
  if (known) return known;
  // 10.96.0.1 is the kubernetes Service's; .0 and the broadcast address are never handed out.
  let offset = (fnv1a(key) % (CLUSTER_IP_SIZE - 12)) + 10;
  for (let tries = 0; tries < CLUSTER_IP_SIZE; tries++) {
    const ip = ipToString(CLUSTER_IP_BASE + offset);
    if (!usedClusterIps.has(ip)) {
      usedClusterIps.add(ip);
      clusterIps.set(key, ip);
      return ip;
    }
    offset = offset + 1 >= CLUSTER_IP_SIZE - 1 ? 10 : offset + 1;
  }
  throw new Error('the sandbox service IP range 10.96.0.0/12 is full');
}

function allocateNodePort(key: string): number {
  const known = nodePorts.get(key);
  if (known !== undefined) return known;
  let offset = fnv1a(key) % NODE_PORT_COUNT;
  for (let tries = 0; tries < NODE_PORT_COUNT; tries++) {
    const port = NODE_PORT_MIN + offset;
    if (!usedNodePorts.has(port)) {
      usedNodePorts.add(port);
      nodePorts.set(key, port);
      return port;
    }
    offset = (offset + 1) % NODE_PORT_COUNT;
  }
  // A real server rejects the Service; the sandbox reuses a port instead of failing a test fixture.
  return NODE_PORT_MIN + (fnv1a(key) % NODE_PORT_COUNT);
}

function defaultService(object: KubeObject): void {
  const spec = child(object, 'spec');
  const key = `${object.metadata.namespace ?? ''}/${object.metadata.name ?? object.metadata.generateName ?? ''}`;
  setDefault(spec, 'type', 'ClusterIP');
  const type = spec['type'];
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'ClientIP') {
    const clientIp = child(child(spec, 'sessionAffinityConfig'), 'clientIP');
    setDefault(clientIp, 'timeoutSeconds', 10800);
  }
  const ports = objects(spec['ports']);
  for (const port of ports) {
    setDefault(port, 'protocol', 'TCP');
    if (type !== 'ExternalName' && port['targetPort'] == null && port['port'] != null) port['targetPort'] = port['port'];
  }
  if (type === 'ExternalName') return;
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');

  // Cluster IPs (ServiceIPs allocation in the registry).
  const requested = spec['clusterIP'];
  if (requested === 'None') {
    setDefault(spec, 'clusterIPs', ['None']);
  } else if (typeof requested === 'string' && requested !== '') {
    usedClusterIps.add(requested);
    if (!clusterIps.has(key)) clusterIps.set(key, requested);
    setDefault(spec, 'clusterIPs', [requested]);
  } else {
    const ip = allocateClusterIp(key);
    spec['clusterIP'] = ip;
    setDefault(spec, 'clusterIPs', [ip]);
  }
  setDefault(spec, 'ipFamilies', ['IPv4']);
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');

  if (type === 'NodePort' || type === 'LoadBalancer') {
    setDefault(spec, 'externalTrafficPolicy', 'Cluster');
    const allocate = type === 'NodePort' || spec['allocateLoadBalancerNodePorts'] !== false;
    if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
    ports.forEach((port, index) => {
      const portKey = `${key}#${String(port['name'] ?? index)}/${String(port['protocol'])}`;
      if (typeof port['nodePort'] === 'number') {
        usedNodePorts.add(port['nodePort']);
        if (!nodePorts.has(portKey)) nodePorts.set(portKey, port['nodePort']);
      } else if (allocate) {
        port['nodePort'] = allocateNodePort(portKey);
      }
    });
    if (type === 'LoadBalancer' && spec['externalTrafficPolicy'] === 'Local') {
      setDefault(spec, 'healthCheckNodePort', allocateNodePort(`${key}#healthCheck`));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Other core kinds

function defaultNamespace(object: KubeObject): void {
  const spec = child(object, 'spec');
  if (!Array.isArray(spec['finalizers'])) spec['finalizers'] = ['kubernetes'];
  if (object.metadata.name) {
    // The NamespaceDefaultLabelName feature always sets this label to the name, even over a user value.
    object.metadata.labels = { ...(object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': object.metadata.name };
  }
}

function defaultPvcSpec(spec: Obj): void {
  setDefault(spec, 'volumeMode', 'Filesystem');
}

function defaultPersistentVolume(object: KubeObject): void {
  const spec = child(object, 'spec');
  setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  setDefault(spec, 'volumeMode', 'Filesystem');
  const hostPath = existing(spec, 'hostPath');
  if (hostPath) setDefault(hostPath, 'type', '');
}

function defaultEndpoints(object: KubeObject): void {
  for (const subset of objects(object['subsets'])) {
    for (const port of objects(subset['ports'])) setDefault(port, 'protocol', 'TCP');
  }
}

function defaultNetworkPolicy(object: KubeObject): void {
  const spec = child(object, 'spec');
  for (const rule of [...objects(spec['ingress']), ...objects(spec['egress'])]) {
    for (const port of objects(rule['ports'])) setDefault(port, 'protocol', 'TCP');
  }
  if (!Array.isArray(spec['policyTypes'])) {
    const types = ['Ingress'];
    if (Array.isArray(spec['egress']) && spec['egress'].length > 0) types.push('Egress');
    spec['policyTypes'] = types;
  }
}

function defaultBinding(object: KubeObject): void {
  for (const subject of objects(object['subjects'])) {
    // ServiceAccount subjects keep the empty group, which is omitted when serialised.
    if (subject['apiGroup'] != null && subject['apiGroup'] !== '') continue;
    if (subject['kind'] === 'User' || subject['kind'] === 'Group') subject['apiGroup'] = 'rbac.authorization.k8s.io';
  }
}
