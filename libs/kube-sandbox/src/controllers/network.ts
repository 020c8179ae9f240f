/**
 * Services, Endpoints and Ingresses: a LoadBalancer Service gets an ingress IP from 172.18.255.0/24
 * (like MetalLB on kind) after rolloutMs; every Service with a selector gets an Endpoints object of the
 * ready and not-ready pods it selects; an Ingress gets the ingress controller's address after rolloutMs.
 */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  arr,
  deepEqual,
  forUpdate,
  isDeleting,
  isPodReady,
  isPodTerminal,
  obj,
  spec,
  status,
  str,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

/** The address every Ingress reports (the simulated ingress controller's). */
export const INGRESS_IP = '172.18.255.254';

function firstSeen(ctx: Context, object: KubeObject): number {
  const uid = object.metadata.uid ?? '';
  let at = ctx.memory.firstSeen.get(uid);
  if (at === undefined) {
    at = ctx.now();
    ctx.memory.firstSeen.set(uid, at);
  }
  return at;
}

function loadBalancerIp(ctx: Context, service: KubeObject): string {
  const uid = service.metadata.uid ?? '';
  const known = ctx.memory.loadBalancerIps.get(uid);
  if (known) return known;
  const existing = str(arr(obj(status(service)['loadBalancer'])['ingress'])[0]?.['ip']);
  const ip = existing ?? `172.18.255.${(ctx.memory.loadBalancerCounter++ % 253) + 1}`;
  ctx.memory.loadBalancerIps.set(uid, ip);
  return ip;
}

export function reconcileService(ctx: Context, namespace: string | undefined, name: string): void {
  const svcType = ctx.resource('v1', 'Service');
  if (!svcType) return;
  const service = ctx.api.get(svcType, namespace, name);
  if (!service || isDeleting(service)) return;
  const prev = status(service);
  const next: Obj = { ...prev, loadBalancer: {} };
  if (spec(service)['type'] === 'LoadBalancer') {
    const wait = firstSeen(ctx, service) + ctx.config.rolloutMs - ctx.now();
    const had = arr(obj(prev['loadBalancer'])['ingress']).length > 0;
    if (wait > 0 && !had) {
      ctx.enqueue(ControllerName.service, namespace, name, wait);
      next['loadBalancer'] = {};
    } else {
      next['loadBalancer'] = { ingress: [{ ip: loadBalancerIp(ctx, service), ipMode: 'VIP' }] };
    }
  }
  writeStatus(ctx, svcType, service, next);
}

/** The port a Service port targets on a pod (a named targetPort is looked up in the pod's containers). */
function targetPortOn(pod: KubeObject, port: Obj): number | undefined {
  const target = port['targetPort'] ?? port['port'];
  if (typeof target === 'number') return target;
  if (typeof target === 'string' && /^\d+$/.test(target)) return Number(target);
  for (const c of arr(spec(pod)['containers'])) {
    for (const p of arr(c['ports'])) if (p['name'] === target && typeof p['containerPort'] === 'number') return p['containerPort'];
  }
  return undefined;
}

export function reconcileEndpoints(ctx: Context, namespace: string | undefined, name: string): void {
  const svcType = ctx.resource('v1', 'Service');
  const epType = ctx.resource('v1', 'Endpoints');
  const podType = ctx.resource('v1', 'Pod');
  if (!svcType || !epType || !podType) return;
  const service = ctx.api.get(svcType, namespace, name);
  const existing = ctx.api.get(epType, namespace, name);
  const selector = service ? obj(spec(service)['selector']) : {};
  if (!service || isDeleting(service) || Object.keys(selector).length === 0 || spec(service)['type'] === 'ExternalName') {
    // Endpoints of Services without a selector belong to the user; those the controller made go with the Service.
    if (existing && !service && existing.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === 'endpoint-controller') {
      ctx.api.delete(epType, namespace, name);
    }
    return;
  }
  const pods = ctx.index
    .inNamespace('/Pod', namespace)
    .filter(
      (p) =>
        !isDeleting(p) &&
        !isPodTerminal(p) &&
        typeof status(p)['podIP'] === 'string' &&
        Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
    )
    .sort((a, b) => String(status(a)['podIP']).localeCompare(String(status(b)['podIP'])));
  const servicePorts = arr(spec(service)['ports']);
  // Pods that expose the same resolved ports share one subset, as the real controller groups them.
  const subsets = new Map<string, { addresses: Obj[]; notReadyAddresses: Obj[]; ports: Obj[] }>();
  for (const pod of pods) {
    const ports: Obj[] = [];
    for (const port of servicePorts) {
      const resolved = targetPortOn(pod, port);
      if (resolved === undefined) continue;
      const p: Obj = {};
      if (typeof port['name'] === 'string' && port['name'] !== '') p['name'] = port['name'];
      p['port'] = resolved;
      p['protocol'] = port['protocol'] ?? 'TCP';
      if (typeof port['appProtocol'] === 'string') p['appProtocol'] = port['appProtocol'];
      ports.push(p);
    }
    const key = JSON.stringify(ports);
    const subset = subsets.get(key) ?? { addresses: [], notReadyAddresses: [], ports };
    subsets.set(key, subset);
    const address: Obj = {
      ip: status(pod)['podIP'],
      nodeName: spec(pod)['nodeName'],
      targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
    };
    (isPodReady(pod) ? subset.addresses : subset.notReadyAddresses).push(address);
  }
  const desiredSubsets = [...subsets.values()].map((s) => {
    const out: Obj = {};
    if (s.addresses.length > 0) out['addresses'] = s.addresses;
    if (s.notReadyAddresses.length > 0) out['notReadyAddresses'] = s.notReadyAddresses;
    if (s.ports.length > 0) out['ports'] = s.ports;
    return out;
  });
  const labels = { ...(service.metadata.labels ?? {}), 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
  if (!existing) {
    const object: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels } };
    if (desiredSubsets.length > 0) object['subsets'] = desiredSubsets;
    ctx.api.create(epType, object, CONTROLLER_MANAGER);
    return;
  }
  if (deepEqual(existing['subsets'] ?? [], desiredSubsets) && deepEqual(existing.metadata.labels ?? {}, labels)) return;
  const copy = forUpdate(existing);
  copy.metadata.labels = labels;
  if (desiredSubsets.length > 0) copy['subsets'] = desiredSubsets;
  else delete copy['subsets'];
  ctx.api.update(epType, copy, CONTROLLER_MANAGER);
}

export function reconcileIngress(ctx: Context, namespace: string | undefined, name: string): void {
  const ingType = ctx.resource('networking.k8s.io/v1', 'Ingress');
  if (!ingType) return;
  const ingress = ctx.api.get(ingType, namespace, name);
  if (!ingress || isDeleting(ingress)) return;
  const prev = status(ingress);
  if (arr(obj(prev['loadBalancer'])['ingress']).length > 0) return;
  const wait = firstSeen(ctx, ingress) + ctx.config.rolloutMs - ctx.now();
  if (wait > 0) {
    if (!prev['loadBalancer']) writeStatus(ctx, ingType, ingress, { ...prev, loadBalancer: {} });
    ctx.enqueue(ControllerName.ingress, namespace, name, wait);
    return;
  }
  writeStatus(ctx, ingType, ingress, { ...prev, loadBalancer: { ingress: [{ ip: INGRESS_IP }] } });
}
