// The types of `connect({ schemas })`: an app's own event schemas, as JSON Schema (compiled
// to the Rust validator) or Standard Schema validators (zod, valibot, arktype: run in JS), and
// the payload types TypeScript infers from them, so one declaration types and validates.
import type { CatalogEmitEvents, CatalogListenEvents } from "./catalog.js";

/** The JSON Schema subset wiresync checks. Any other keyword is refused at `connect`. */
export type JsonSchema =
  | boolean
  | {
      type?: JsonSchemaType | readonly JsonSchemaType[];
      properties?: { readonly [name: string]: JsonSchema };
      required?: readonly string[];
      items?: JsonSchema;
      additionalProperties?: JsonSchema;
      enum?: readonly (string | number | boolean | null)[];
      const?: string | number | boolean | null;
      nullable?: boolean;
      minLength?: number;
      maxLength?: number;
      minimum?: number;
      maximum?: number;
      // Annotations: accepted, not checked.
      title?: string;
      description?: string;
      default?: unknown;
      examples?: readonly unknown[];
      format?: string;
      $schema?: string;
      $id?: string;
      $comment?: string;
      deprecated?: boolean;
      readOnly?: boolean;
      writeOnly?: boolean;
    };

export type JsonSchemaType = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null";

/** A Standard Schema validator (https://standardschema.dev): zod 3.24+/4, valibot 1, arktype 2. */
export interface StandardSchema<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }> };

/** An event's schema: JSON Schema or a Standard Schema validator. */
export type EventSchema = JsonSchema | StandardSchema<any, any>;

/** `connect`'s `schemas` option: event name → schema, per direction. */
export interface SchemasOption {
  /** Server → client events. */
  listen?: { readonly [event: string]: EventSchema };
  /** Client → server events (`emit`, `emitWithAck`, the outbox). */
  emit?: { readonly [event: string]: EventSchema };
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type TypeOf<S> = S extends { type: infer T }
  ? T extends readonly (infer U)[]
    ? [Exclude<U, "null">] extends [never]
      ? "null"
      : Exclude<U, "null">
    : T
  : S extends { properties: unknown } | { required: unknown } | { additionalProperties: unknown }
    ? "object"
    : S extends { items: unknown }
      ? "array"
      : S extends { minLength: unknown } | { maxLength: unknown }
        ? "string"
        : S extends { minimum: unknown } | { maximum: unknown }
          ? "number"
          : never;

type OrNull<S, T> = S extends { nullable: true }
  ? T | null
  : S extends { type: readonly (infer U)[] }
    ? "null" extends U
      ? T | null
      : T
    : T;

type Props<S> = S extends { properties: infer P } ? P : {};
type Required<S> = S extends { required: readonly (infer R extends string)[] } ? R : never;

type ObjectOf<S> = Simplify<
  { -readonly [K in keyof Props<S> & Required<S>]: FromJsonSchema<Props<S>[K]> } & {
    -readonly [K in Exclude<keyof Props<S>, Required<S>>]?: FromJsonSchema<Props<S>[K]>;
  } & { -readonly [K in Exclude<Required<S>, keyof Props<S>>]: unknown } & (S extends {
      additionalProperties: infer A;
    }
      ? A extends false
        ? {}
        : { [name: string]: unknown }
      : {})
>;

type Base<S> = [TypeOf<S>] extends [never]
  ? unknown
  : TypeOf<S> extends "string"
    ? string
    : TypeOf<S> extends "number" | "integer"
      ? number
      : TypeOf<S> extends "boolean"
        ? boolean
        : TypeOf<S> extends "null"
          ? null
          : TypeOf<S> extends "array"
            ? S extends { items: infer I }
              ? FromJsonSchema<I>[]
              : unknown[]
            : ObjectOf<S>;

/** The payload type a JSON Schema literal describes (write the schema `as const`, or inline
 *  in `connect`, which infers it). */
export type FromJsonSchema<S> = S extends true
  ? unknown
  : S extends false
    ? never
    : S extends { const: infer C }
      ? OrNull<S, C>
      : S extends { enum: readonly (infer E)[] }
        ? OrNull<S, E>
        : OrNull<S, Base<S>>;

/** The payload an event's schema gives a handler (a Standard Schema's output). */
export type PayloadOf<S> = S extends StandardSchema<any, infer O> ? O : FromJsonSchema<S>;
/** The payload an app passes for an event (a Standard Schema's input). */
export type InputOf<S> = S extends StandardSchema<infer I, any> ? I : FromJsonSchema<S>;

type Catalog<O, C> = O extends { catalog: false } ? {} : C;
/** A direction `schemas` does not declare: the catalog's events (unless `catalog: false`) and
 *  any other name, as without schemas. */
type Undeclared<O, C> = Catalog<O, C> & { [event: string]: unknown };

/** Server → client events of `connect(options)`: the declared ones and the catalog's others
 *  (unless `catalog: false`); no other name, so a typo is an error. */
export type ListenOf<O> = O extends { schemas: { listen: infer L } }
  ? Simplify<{ -readonly [K in keyof L]: PayloadOf<L[K]> } & Omit<Catalog<O, CatalogListenEvents>, keyof L>>
  : Undeclared<O, CatalogListenEvents>;

/** Client → server events of `connect(options)`: the declared ones and the catalog's others. */
export type EmitOf<O> = O extends { schemas: { emit: infer E } }
  ? Simplify<{ -readonly [K in keyof E]: InputOf<E[K]> } & Omit<Catalog<O, CatalogEmitEvents>, keyof E>>
  : Undeclared<O, CatalogEmitEvents>;
