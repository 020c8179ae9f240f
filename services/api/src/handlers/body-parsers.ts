/**
 * Request bodies: JSON (an empty body is no body, so `POST …/sync` with `Content-Type: application/json`
 * and nothing else works) and YAML (`application/yaml`, `text/yaml`, `application/x-yaml`), so a
 * manifest file can be sent as it is. Anything else is 415; the size limit is the app's bodyLimit (413).
 */
import { ErrorCode } from '@ferry/contracts';
import type { FastifyInstance } from '@ferry/runtime';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './errors.js';

export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(new ApiError(400, ErrorCode.ApiBadRequest, `request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseYaml(text) as unknown);
    } catch (error) {
      done(new ApiError(400, ErrorCode.ApiBadRequest, `request body is not valid YAML: ${(error as Error).message}`), undefined);
    }
  });
}
