// Model routes: a requested model name (or `*`) maps to an ordered list of targets. The first
// target is the primary; the rest are fallbacks tried in order (see routing/fallback.ts).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors';

export interface TargetOptions {
  /** Milliseconds to wait for the first upstream event before giving up on this target. */
  firstByteTimeoutMs?: number;
  /** Overrides applied to the upstream request. */
  maxTokens?: number;
  temperature?: number;
  /** How session images reach this target: inline base64 or presigned https URLs. */
  imageDelivery?: 'inline' | 'url';
}

export interface RouteTarget {
  /** "provider:model" as configured; `model` "*" means the model name the client asked for. */
  id: string;
  provider: string;
  model: string;
  options: TargetOptions;
}

export interface Route {
  /** The requested model name this route answers, or "*". */
  name: string;
  targets: RouteTarget[];
  /** Written to the client at once, before the upstream answers (e.g. "... "). */
  bufferWords?: string;
  /** Default first-byte timeout for every target of the route. */
  firstByteTimeoutMs?: number;
  /** Start the next target when the current one has not produced a token within this many ms. */
  hedgeAfterMs?: number;
  /** Offer the generate_image tool on this route (true) or not (false), whatever IMAGE_GENERATION says. */
  imageGeneration?: boolean;
}

export type Routes = ReadonlyMap<string, Route>;

const targetOptionsSchema = z
  .object({
    firstByteTimeoutMs: z.number().int().positive().max(300_000).optional(),
    maxTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    imageDelivery: z.enum(['inline', 'url']).optional(),
  })
  .strict();

const targetStringSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*:.+$/i, 'a target is "provider:model", e.g. "openai:gpt-4o"');

const targetSchema = z.union([
  targetStringSchema,
  targetOptionsSchema.extend({ target: targetStringSchema }).strict(),
]);

const routeSchema = z.union([
  z.array(targetSchema).min(1, 'a route needs at least one target'),
  z
    .object({
      targets: z.array(targetSchema).min(1, 'a route needs at least one target'),
      bufferWords: z.string().max(200).optional(),
      firstByteTimeoutMs: z.number().int().positive().max(300_000).optional(),
      hedgeAfterMs: z.number().int().positive().max(60_000).optional(),
      imageGeneration: z.boolean({ error: 'must be true or false' }).optional(),
    })
    .strict(),
]);

const routesSchema = z.record(z.string().min(1), routeSchema);

function toTarget(raw: z.infer<typeof targetSchema>): RouteTarget {
  const { target, ...options } = typeof raw === 'string' ? { target: raw } : raw;
  const sep = target.indexOf(':');
  return { id: target, provider: target.slice(0, sep), model: target.slice(sep + 1), options };
}

/**
 * Parses MODEL_ROUTES: inline JSON, or a path to a JSON file. `knownProviders` are the
 * provider instance names that exist; a target naming another is a configuration error.
 */
export function parseRoutes(source: string, knownProviders: ReadonlySet<string>): Routes {
  const text = source.trim().startsWith('{') ? source : readRoutesFile(source);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`MODEL_ROUTES is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = routesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = innermost(parsed.error.issues[0]!);
    const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ConfigError(`MODEL_ROUTES is invalid${where}: ${issue.message}`);
  }
  const routes = new Map<string, Route>();
  for (const [name, raw] of Object.entries(parsed.data)) {
    const spec = Array.isArray(raw) ? { targets: raw } : raw;
    const targets = spec.targets.map(toTarget);
    for (const t of targets) {
      if (!knownProviders.has(t.provider)) {
        throw new ConfigError(
          `MODEL_ROUTES route "${name}" names unknown provider "${t.provider}" (known: ${[...knownProviders].join(', ')})`,
        );
      }
    }
    const route: Route = { name, targets };
    if ('bufferWords' in spec && spec.bufferWords !== undefined) route.bufferWords = spec.bufferWords;
    if ('firstByteTimeoutMs' in spec && spec.firstByteTimeoutMs !== undefined)
      route.firstByteTimeoutMs = spec.firstByteTimeoutMs;
    if ('hedgeAfterMs' in spec && spec.hedgeAfterMs !== undefined) route.hedgeAfterMs = spec.hedgeAfterMs;
    if ('imageGeneration' in spec && spec.imageGeneration !== undefined)
      route.imageGeneration = spec.imageGeneration;
    routes.set(name, route);
  }
  return routes;
}

/**
 * A route is a list or an object (a union): zod reports "Invalid input" at the route. The branch
 * that got deepest says what is wrong, with its path (`m.imageGeneration: must be true or false`).
 */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const deepest = issue.errors
    .flat()
    .reduce<z.core.$ZodIssue | undefined>((a, b) => (!a || b.path.length > a.path.length ? b : a), undefined);
  if (!deepest || deepest.path.length === 0) return issue;
  return innermost({ ...deepest, path: [...issue.path, ...deepest.path] });
}

/** Whether a route offers the generate_image tool: its own say, else IMAGE_GENERATION's. */
export function routeOffersImageTool(route: Pick<Route, 'imageGeneration'>, globally: boolean): boolean {
  return route.imageGeneration ?? globally;
}

function readRoutesFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`MODEL_ROUTES is neither JSON nor a readable file: ${(err as Error).message}`);
  }
}

/** The route for a requested model: its exact name, else `*`, else none. */
export function findRoute(routes: Routes, model: string): Route | undefined {
  return routes.get(model) ?? routes.get('*');
}

/** The upstream model a target calls for a given requested model. */
export function targetModel(target: RouteTarget, requested: string): string {
  return target.model === '*' ? requested : target.model;
}
