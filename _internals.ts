// Copyright the @seed/concurrency authors. MIT license.
// This module is browser compatible.

/**
 * Internal: the one way a module of this package reaches the private state
 * of a class defined in another module ("package-private" access), so that
 * the state stays out of the class's public type and out of its docs.
 *
 * The pattern, used by every class that needs it:
 *
 * 1. The class keeps the state in `#private` fields and methods.
 * 2. A `_<class>_internals.ts` module beside the class declares what other
 *    modules may do, as an interface of functions whose first parameter is
 *    the instance, creates one {@linkcode Internals} for it, and exports
 *    plain functions that forward to it (`settleFuture(future, ok, value)`).
 *    It imports the class as a type only, so there is no runtime cycle.
 * 3. The class registers the implementation from its `static {}` block,
 *    where its private names are in scope:
 *
 *    ```ts ignore
 *    static {
 *      registerFutureInternals({
 *        settle: (future, ok, value) => future.#settle(ok, value),
 *      });
 *    }
 *    ```
 *
 * 4. Other modules import the functions of the internals module, never the
 *    class's private names and never a public `_method()`.
 *
 * Load order: a static block runs when its class is evaluated, so a
 * function that takes an instance can always reach the implementation (an
 * instance exists only once its class does). A function that makes an
 * instance (`sharedLockAt`) needs the class's module evaluated first: its
 * importer also imports that module, for its side effect.
 *
 * Inside the class's own module no internals module is needed: the static
 * block assigns the private function to a module-local variable instead
 * (`Channel`'s iterator reaches `#next` this way).
 *
 * @module
 */

/**
 * The functions one class registers for the other modules of the package.
 *
 * @typeParam I The interface of those functions.
 */
export class Internals<I> {
  readonly #owner: string;
  #impl: I | undefined = undefined;

  /** @param owner The class's name, for error messages. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /**
   * Stores the implementation. Called once, from the owner's static block.
   *
   * @throws {Error} If it was registered already.
   */
  register(impl: I): void {
    if (this.#impl !== undefined) {
      throw new Error(
        `Internal error: ${this.#owner} registered its internals twice`,
      );
    }
    this.#impl = impl;
  }

  /**
   * The registered implementation.
   *
   * @throws {Error} If the owner's module has not been evaluated yet.
   */
  get(): I {
    const impl = this.#impl;
    if (impl === undefined) {
      throw new Error(
        `Internal error: ${this.#owner} internals used before ${this.#owner} was loaded`,
      );
    }
    return impl;
  }
}
