/**
 * A node's policy file, reloaded live: the data owner edits it and the next job is decided
 * under the new text, without a restart.
 *
 * Editors save in two ways — in place, or by writing a temporary file and renaming it over
 * the old one (which replaces the inode, so a watch on the file itself goes deaf). So this
 * watches the folder (`fs.watch`) for events naming the file, and also polls the file's
 * stat as a fallback for file systems where watching does not work (network mounts,
 * containers). Bursts of events are debounced (an editor's save is often several writes),
 * then the file is read and parsed: a valid policy replaces the current one; an invalid one
 * (half-written, mistyped) is reported and the previous policy stays in force, so a typo
 * can never loosen a node's rules.
 * @module
 */
import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ErrorCode, MpcError } from '../errors.ts';
import { readTextFile } from '../util/json-file.ts';
import { parsePolicyText, type Policy } from '../security/policy.ts';

/** What changed, for the node's log and audit (plain JSON fields). */
export interface PolicyChangeInfo {
  /** SHA-256 of the new file contents. */
  sha256: string;
  /** SHA-256 of the contents it replaces. */
  previous: string;
}

export interface PolicyFileOptions {
  /** A new valid policy is in force. */
  onChange?: (policy: Policy, info: PolicyChangeInfo) => void;
  /** The file changed but cannot be used; the previous policy stays in force. */
  onInvalid?: (error: MpcError) => void;
  /** Quiet time after the last event before reading (default 100 ms). */
  debounceMs?: number;
  /** Interval of the stat fallback (default 1000 ms; 0 turns it off). */
  pollMs?: number;
}

/** The outcome of one reload. */
export type ReloadResult = 'changed' | 'unchanged' | 'invalid';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export class PolicyFile {
  readonly file: string;
  #policy: Policy;
  #digest: string;
  readonly #options: PolicyFileOptions;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #stat: string;
  #closed = false;

  private constructor(file: string, text: string, options: PolicyFileOptions) {
    this.file = file;
    this.#options = options;
    this.#policy = parsePolicyText(text, file);
    this.#digest = sha256(text);
    this.#stat = this.#statKey();
  }

  /**
   * Read `file` now (a missing or invalid file is MpcError CONFIG naming it: a node must not
   * start under a policy other than the one its owner wrote) and start watching it.
   */
  static open(file: string, options: PolicyFileOptions = {}): PolicyFile {
    const pf = new PolicyFile(file, readTextFile(file, ErrorCode.CONFIG), options);
    pf.#watch();
    return pf;
  }

  /** The policy in force. */
  get current(): Policy {
    return this.#policy;
  }

  /** SHA-256 of the contents in force. */
  get digest(): string {
    return this.#digest;
  }

  /**
   * Read and parse the file now (also what the watcher does, and what SIGHUP should call).
   * Unchanged contents are 'unchanged' with no callback.
   */
  reload(): ReloadResult {
    if (this.#closed) return 'unchanged';
    this.#stat = this.#statKey();
    let text: string;
    let policy: Policy;
    try {
      text = readTextFile(this.file, ErrorCode.CONFIG);
      const digest = sha256(text);
      if (digest === this.#digest) return 'unchanged';
      policy = parsePolicyText(text, this.file);
    } catch (e) {
      const err = e instanceof MpcError ? e : new MpcError(ErrorCode.CONFIG, `${this.file}: ${(e as Error).message}`, { cause: e });
      this.#options.onInvalid?.(err);
      return 'invalid';
    }
    const info: PolicyChangeInfo = { sha256: sha256(text), previous: this.#digest };
    this.#policy = policy;
    this.#digest = info.sha256;
    this.#options.onChange?.(policy, info);
    return 'changed';
  }

  /** Stop watching; `current` stays readable. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }

  #watch(): void {
    const name = basename(this.file);
    try {
      this.#watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.#schedule();
      });
      // A folder that disappears (or a watch the platform drops) leaves the poll in charge.
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined;
    }
    const every = this.#options.pollMs ?? 1000;
    if (every > 0) {
      this.#poll = setInterval(() => {
        if (this.#statKey() !== this.#stat) this.#schedule();
      }, every);
      this.#poll.unref();
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.reload(), this.#options.debounceMs ?? 100);
    this.#debounce.unref();
  }

  /** Identity and version of the file on disk (inode, size, times), or 'missing'. */
  #statKey(): string {
    try {
      const s = statSync(this.file);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
