import pLimit from "p-limit";
import { type SshServer, startSshd } from "../../test/support/sshd.js";

/** Can sshd run in a PID namespace of its own here (root, and `unshare` allowed by the kernel)? */
export async function canUseOwnProcessTables(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = await startSshd({ ownProcessTable: true });
    await probe.dispose();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `count` real sshd servers on loopback, a few at a time, each one registered with `defer`
 * for cleanup as soon as it listens. With `ownProcessTable` each runs in its own PID namespace, so
 * a status command's `ps` on it lists only its own jobs, as on separate machines; stopping it then
 * also ends every job started through it. Their sessions skip the login user's ~/.bashrc (see
 * startSshd's skipShellRc): the figures are EDP's, not this machine's shell start-up.
 */
export async function startSshNodes(
  count: number,
  defer: (what: string, stop: () => unknown) => void,
  options: { ownProcessTable: boolean },
): Promise<SshServer[]> {
  const nodes: SshServer[] = [];
  // One cleanup for all, stopping them a few at a time (each stop reads the process table).
  defer(`${count} sshd servers`, async () => {
    const stops = pLimit(8);
    await Promise.all(nodes.filter(Boolean).map((sshd) => stops(() => sshd.dispose())));
  });
  const starts = pLimit(4);
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      starts(async () => {
        nodes[i] = await startSshd({ ownProcessTable: options.ownProcessTable, skipShellRc: true });
      }),
    ),
  );
  return nodes;
}
