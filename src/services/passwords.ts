/** Password hashing (argon2id) and Django's default password validators. */
import argon2 from 'argon2';

/** The common-passwords list, loaded when a password is first checked: decompressing it took 0.1–0.2 s of every start. */
let common: Promise<Set<string>> | undefined;
const commonPasswords = (): Promise<Set<string>> =>
  (common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()))));
const MIN_LENGTH = 8;
const MAX_SIMILARITY = 0.7;

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and cheap enough for busy logins. */
const ARGON2 = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A valid hash of nothing anyone can type, so unknown users cost as much time as known ones. */
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword(`no-such-user-${Math.random()}`);
  await verifyPassword(await dummyHash, password);
}

/** Ratcliff/Obershelp similarity, as Python's difflib.SequenceMatcher.ratio() that Django uses. */
export function similarity(a: string, b: string): number {
  if (!a.length && !b.length) return 1;
  const matches = (x: string, y: string): number => {
    if (!x.length || !y.length) return 0;
    let best = 0;
    let bx = 0;
    let by = 0;
    for (let i = 0; i < x.length; i++) {
      for (let j = 0; j < y.length; j++) {
        let k = 0;
        while (i + k < x.length && j + k < y.length && x[i + k] === y[j + k]) k++;
        if (k > best) [best, bx, by] = [k, i, j];
      }
    }
    if (!best) return 0;
    return best + matches(x.slice(0, bx), y.slice(0, by)) + matches(x.slice(bx + best), y.slice(by + best));
  };
  return (2 * matches(a, b)) / (a.length + b.length);
}

export interface PasswordOwner {
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
}

/** Returns Django's messages for every rule the password breaks (empty when it is fine). */
export async function passwordProblems(password: string, owner: PasswordOwner): Promise<string[]> {
  const problems: string[] = [];
  const lower = password.toLowerCase();
  const attributes: [string, string | undefined][] = [
    ['username', owner.username],
    ['email address', owner.email],
    ['first name', owner.firstName],
    ['last name', owner.lastName],
  ];
  for (const [label, value] of attributes) {
    if (!value) continue;
    const parts = [value, ...value.split(/\W+/)].map((p) => p.toLowerCase()).filter((p) => p.length > 0);
    if (parts.some((part) => similarity(lower, part) >= MAX_SIMILARITY)) {
      problems.push(`The password is too similar to the ${label}.`);
      break;
    }
  }
  if (password.length < MIN_LENGTH) problems.push(`This password is too short. It must contain at least ${MIN_LENGTH} characters.`);
  if ((await commonPasswords()).has(lower.trim())) problems.push('This password is too common.');
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  return problems;
}
