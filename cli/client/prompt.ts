/**
 * Asking the user for input. On a terminal, prompts go to stderr (stdout stays clean for
 * `--json`) and passwords are read without echo; otherwise (a pipe, a script) answers are
 * read line by line from stdin, so `echo "$PASSWORD" | jvai login --username ann` works.
 */
import readline from 'node:readline/promises';

export const interactive = (): boolean => Boolean(process.stdin.isTTY);

let pipedLines: Promise<string[]> | null = null;

/** The next line of piped stdin (all of it is read once, then handed out line by line). */
async function nextPipedLine(what: string): Promise<string> {
  pipedLines ??= (async () => {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.split(/\r?\n/);
  })();
  const lines = await pipedLines;
  const line = lines.shift();
  if (line === undefined || (line === '' && lines.every((l) => l === ''))) throw new Error(`expected the ${what} on stdin`);
  return line;
}

/** A line typed with echo (e.g. a username). */
export async function ask(question: string): Promise<string> {
  if (!interactive()) return nextPipedLine(question.replace(/:\s*$/, '').toLowerCase());
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** A secret typed without echo; from a pipe, the next line of stdin. */
export async function askSecret(question: string): Promise<string> {
  if (!interactive()) return nextPipedLine('password');
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  try {
    return await new Promise<string>((resolve) => {
      let value = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            // Raw mode swallows Ctrl-C: restore the terminal and leave as SIGINT would.
            stdin.setRawMode(false);
            process.stderr.write('\n');
            process.exit(130);
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (ch >= ' ') value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
