// Copyright the @seed/concurrency authors. MIT license.

/**
 * Describes a value in a few words for an error message.
 *
 * @param value Any value.
 * @returns A short description such as `a function named "f"`.
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "function":
      return value.name ? `a function named "${value.name}"` : "a function";
    case "symbol":
      return `a symbol (${String(value.description)})`;
    case "string":
      return JSON.stringify(
        value.length > 60 ? value.slice(0, 57) + "..." : value,
      );
    case "object": {
      const name = (value as object).constructor?.name;
      return name && name !== "Object" ? `an instance of ${name}` : "an object";
    }
    default:
      return String(value);
  }
}
