import { native } from './native';

/** The same on every Linux architecture (node:os would cost each call ~0.4 ms to load). */
export const SIGKILL = 9;

/** SIGKILL the process behind `pidfd` and wait until it is gone (reaping it when it is our child). */
export async function killPidfdAndWait(pidfd: number): Promise<void> {
  native().pidfdSendSignal(pidfd, SIGKILL);
  await native().waitReadable(pidfd);
  try {
    native().reapPidfd(pidfd);
  } catch {
    // not our child: its parent reaps it
  }
}
