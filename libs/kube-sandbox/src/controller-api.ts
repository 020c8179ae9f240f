/** The ControllerApi the simulated controllers use, on top of the API server (same rules as HTTP). */
import type { ControllerApi, KubeObject, ResourceType, StoreEvent } from './types.js';
import { apiVersionOf } from './resources.js';
import { entryJson } from './store.js';
import { StatusError } from './status-error.js';
import type { ApiServer } from './api.js';

/** Manager name of status writes made by the simulated controllers. */
export const STATUS_MANAGER = 'kube-controller-manager';

function copy(e: { obj: KubeObject; json: string | undefined }): KubeObject {
  return JSON.parse(entryJson(e)) as KubeObject;
}

export function createControllerApi(api: ApiServer): ControllerApi {
  return {
    resourceFor(apiVersion, kind) {
      return api.registry.byApiVersionKind(apiVersion, kind);
    },
    get(resource, namespace, name) {
      const e = api.store.get(resource, namespace, name);
      return e ? api.asVersion(copy(e), resource) : undefined;
    },
    list(resource, namespace) {
      return api.store.list(resource, namespace).map((e) => api.asVersion(copy(e), resource));
    },
    create(resource, object, manager) {
      const body = structuredClone(object);
      body.apiVersion = apiVersionOf(resource);
      body.kind = resource.kind;
      const created = api.create(resource, object.metadata.namespace, body, { fieldManager: manager });
      return structuredClone(created);
    },
    update(resource, object, manager) {
      const body = structuredClone(object);
      // a controller's copy may be older than the recorded ownership: never write it back
      delete body.metadata.managedFields;
      body.apiVersion = apiVersionOf(resource);
      body.kind = resource.kind;
      const updated = api.update(resource, object.metadata.namespace, object.metadata.name ?? '', body, '', { fieldManager: manager });
      return structuredClone(updated);
    },
    updateStatus(resource: ResourceType, namespace, name, mutate) {
      const e = api.store.get(resource, namespace, name);
      if (!e) return undefined;
      const current = api.asVersion(copy(e), resource);
      const status = mutate(structuredClone(current));
      if (status === undefined) return current;
      const body: KubeObject = { ...current, status };
      try {
        const updated = api.update(resource, namespace, name, body, 'status', { fieldManager: STATUS_MANAGER });
        return structuredClone(updated);
      } catch (err) {
        if (err instanceof StatusError && err.code === 404) return undefined;
        throw err;
      }
    },
    delete(resource, namespace, name) {
      try {
        api.delete(resource, namespace, name, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    },
    onChange(listener) {
      return api.store.onChange((e) => {
        let object: KubeObject | undefined;
        const event: StoreEvent = {
          type: e.type,
          resource: e.resource,
          get object(): KubeObject {
            object ??= copy(e.entry);
            return object;
          },
        } as StoreEvent;
        listener(event);
      });
    },
  };
}
