/**
 * @ferry/kube-sandbox: a Kubernetes API stand-in for tests, benchmarks and the quick start.
 * See docs/sandbox.md.
 */
export { startSandbox } from './sandbox.js';
export type { Sandbox, SandboxOptions } from './sandbox.js';
export type { KubeObject, ObjectMeta, OwnerReference, ResourceType } from './types.js';
