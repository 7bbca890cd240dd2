/**
 * The embedded schema registry: a subject per stream (`<stream>-value`), numbered versions, global schema ids
 * (one id per distinct schema, as Confluent assigns them), and a compatibility mode per subject and globally.
 * Persistent in one file, replaced atomically. `tributary.yaml` is the source of truth: `syncFromPlan` makes a
 * changed stream schema a new version when it is compatible, and refuses it with the reasons when not.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '../definitions/hash.js';
import type { Compatibility, Plan } from '../definitions/plan.js';
import { writeDurably } from '../log/embedded/durable-file.js';
import { compatibilityProblems, type SchemaType, type SchemaVersion, schemaTypeOf } from './compatibility.js';

export const subjectOf = (stream: string) => `${stream}-value`;

export interface RegisteredSchema {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly type: SchemaType;
  readonly schema: unknown;
}

interface Stored {
  nextId: number;
  compatibility: Compatibility;
  schemas: Record<string, { type: SchemaType; schema: unknown }>;
  subjects: Record<string, { compatibility?: Compatibility; ids: number[] }>;
}

export class IncompatibleSchemaError extends Error {
  readonly code = 'TRIBUTARY_SCHEMA_INCOMPATIBLE';
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`the new schema of ${subject} is incompatible with earlier versions:\n  ${problems.join('\n  ')}`);
  }
}

const keyOf = (type: SchemaType, schema: unknown) => `${type}:${canonicalJson(schema)}`;

export class SchemaRegistry {
  private constructor(
    private readonly path: string | null,
    private readonly stored: Stored,
  ) {}

  /** Opens the registry file (a new registry when there is none); `null` keeps it in memory. */
  static open(path: string | null): SchemaRegistry {
    const stored: Stored =
      path && existsSync(path)
        ? (JSON.parse(readFileSync(path, 'utf8')) as Stored)
        : { nextId: 1, compatibility: 'BACKWARD', schemas: {}, subjects: {} };
    return new SchemaRegistry(path, stored);
  }

  private save(): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    writeDurably(this.path, JSON.stringify(this.stored));
  }

  subjects(): string[] {
    return Object.keys(this.stored.subjects).filter((s) => this.stored.subjects[s]!.ids.length);
  }

  versions(subject: string): number[] | undefined {
    return this.stored.subjects[subject]?.ids.map((_, i) => i + 1);
  }

  /** A version of a subject: a number, or 'latest' / -1. */
  get(subject: string, version: number | 'latest'): RegisteredSchema | undefined {
    const ids = this.stored.subjects[subject]?.ids;
    if (!ids?.length) return undefined;
    const index = version === 'latest' || version === -1 ? ids.length - 1 : version - 1;
    const id = ids[index];
    if (id === undefined) return undefined;
    const { type, schema } = this.stored.schemas[id]!;
    return { subject, version: index + 1, id, type, schema };
  }

  byId(id: number): { type: SchemaType; schema: unknown } | undefined {
    return this.stored.schemas[id];
  }

  /** The version of a subject that holds exactly this schema. */
  lookup(subject: string, type: SchemaType, schema: unknown): RegisteredSchema | undefined {
    const key = keyOf(type, schema);
    const ids = this.stored.subjects[subject]?.ids ?? [];
    const index = ids.findIndex(
      (id) => keyOf(this.stored.schemas[id]!.type, this.stored.schemas[id]!.schema) === key,
    );
    return index < 0 ? undefined : this.get(subject, index + 1);
  }

  compatibility(subject?: string): Compatibility {
    return (subject && this.stored.subjects[subject]?.compatibility) || this.stored.compatibility;
  }

  setCompatibility(mode: Compatibility, subject?: string): void {
    if (subject) (this.stored.subjects[subject] ??= { ids: [] }).compatibility = mode;
    else this.stored.compatibility = mode;
    this.save();
  }

  private history(subject: string): SchemaVersion[] {
    return (this.stored.subjects[subject]?.ids ?? []).map((id) => this.stored.schemas[id]!);
  }

  /** Why `schema` may not become the next version of `subject` (or follow one version, when given). */
  check(subject: string, type: SchemaType, schema: unknown, version?: number | 'latest'): string[] {
    const mode = this.compatibility(subject);
    if (version === undefined) return compatibilityProblems(mode, { type, schema }, this.history(subject));
    const target = this.get(subject, version);
    return target
      ? compatibilityProblems(mode.replace('_TRANSITIVE', '') as Compatibility, { type, schema }, [target])
      : [];
  }

  /** Registers a schema (or finds it already registered); throws IncompatibleSchemaError with the reasons. */
  register(subject: string, type: SchemaType, schema: unknown): RegisteredSchema {
    const existing = this.lookup(subject, type, schema);
    if (existing) return existing;
    const problems = this.check(subject, type, schema);
    if (problems.length) throw new IncompatibleSchemaError(subject, problems);
    const key = keyOf(type, schema);
    let id = Number(
      Object.keys(this.stored.schemas).find(
        (k) => keyOf(this.stored.schemas[k]!.type, this.stored.schemas[k]!.schema) === key,
      ),
    );
    if (!Number.isInteger(id)) {
      id = this.stored.nextId++;
      this.stored.schemas[id] = { type, schema };
    }
    (this.stored.subjects[subject] ??= { ids: [] }).ids.push(id);
    this.save();
    return this.get(subject, 'latest')!;
  }

  /** What `syncFromPlan` would refuse, without writing anything (for `tributary validate`). */
  checkPlan(plan: Plan): { stream: string; problems: string[] }[] {
    const refused: { stream: string; problems: string[] }[] = [];
    for (const stream of Object.values(plan.streams)) {
      const subject = subjectOf(stream.name);
      const type: SchemaType = schemaTypeOf(stream.schema);
      const latest = this.get(subject, 'latest');
      if (
        !latest ||
        keyOf(latest.type, latest.schema) === keyOf(type, stream.schema) ||
        this.lookup(subject, type, stream.schema)
      )
        continue;
      const problems = compatibilityProblems(
        stream.compatibility,
        { type, schema: stream.schema },
        this.history(subject),
      );
      if (problems.length) refused.push({ stream: stream.name, problems });
    }
    return refused;
  }

  /**
   * Brings the registry in line with the definitions: each stream's mode, and its schema as a new version when
   * it changed. Returns what was registered and what was refused (nothing is registered for a refused stream).
   */
  syncFromPlan(plan: Plan): {
    registered: RegisteredSchema[];
    refused: { stream: string; problems: string[] }[];
  } {
    const registered: RegisteredSchema[] = [];
    const refused: { stream: string; problems: string[] }[] = [];
    for (const stream of Object.values(plan.streams)) {
      const subject = subjectOf(stream.name);
      const type: SchemaType = schemaTypeOf(stream.schema);
      if (this.compatibility(subject) !== stream.compatibility)
        this.setCompatibility(stream.compatibility, subject);
      const latest = this.get(subject, 'latest');
      if (latest && keyOf(latest.type, latest.schema) === keyOf(type, stream.schema)) continue; // unchanged
      try {
        registered.push(this.register(subject, type, stream.schema));
      } catch (error) {
        if (!(error instanceof IncompatibleSchemaError)) throw error;
        refused.push({ stream: stream.name, problems: [...error.problems] });
      }
    }
    return { registered, refused };
  }
}
