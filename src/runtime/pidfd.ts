import { constants } from 'node:os';
import { native } from './native';

/** SIGKILL the process behind `pidfd` and wait until it is gone (reaping it when it is our child). */
export async function killPidfdAndWait(pidfd: number): Promise<void> {
  native().pidfdSendSignal(pidfd, constants.signals.SIGKILL);
  await native().waitReadable(pidfd);
  try {
    native().reapPidfd(pidfd);
  } catch {
    // not our child: its parent reaps it
  }
}
