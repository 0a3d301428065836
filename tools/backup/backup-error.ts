/**
 * What `sb backup` / `sb restore` refuse or fail with: a stable code an operator's script can
 * branch on, a message that says what to do, and the exit status (sysexits.h). The CLI prints
 * `sb <command>: <CODE>: <message>`, never a stack trace.
 */
export const BACKUP_ERRORS = {
  /** The backup directory is not a complete, untampered backup: nothing was restored. */
  'BACKUP.INVALID': 65, // EX_DATAERR
  /** A file's size or sha256 is not what the manifest recorded: nothing was restored. */
  'BACKUP.CHECKSUM_MISMATCH': 65,
  /** No manifest (an interrupted backup, or not a backup directory). */
  'BACKUP.NOT_FOUND': 66, // EX_NOINPUT
  /** NATS could not be reached, or did not answer in time. */
  'BACKUP.NATS_UNAVAILABLE': 69, // EX_UNAVAILABLE
  /** JetStream refused a request (its error is in the message). */
  'BACKUP.JETSTREAM_ERROR': 69,
  /** A stream the backup would restore exists already (restore --force replaces it). */
  'BACKUP.STREAMS_EXIST': 73, // EX_CANTCREAT
  /** The output directory is not empty: a backup never mixes with another. */
  'BACKUP.OUT_NOT_EMPTY': 73,
  /** What was restored does not hold what the manifest says was backed up. */
  'BACKUP.VERIFY_FAILED': 70, // EX_SOFTWARE
  /** Reading or writing the backup's files failed (permissions, a full disk). */
  'BACKUP.IO_ERROR': 74, // EX_IOERR
  /** The credentials may not do this (snapshots need the platform-admin user, not a service's). */
  'BACKUP.NATS_PERMISSION': 77, // EX_NOPERM
} as const;
export type BackupErrorCode = keyof typeof BACKUP_ERRORS;

export class BackupError extends Error {
  readonly exitCode: number;

  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BackupError';
    this.exitCode = BACKUP_ERRORS[code];
  }
}

/** A file system error (EACCES, ENOSPC...) as a BackupError; anything else unchanged. */
export function asBackupError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof BackupError || !(err instanceof Error) || typeof e.code !== 'string' || !e.syscall) return err;
  return new BackupError('BACKUP.IO_ERROR', e.message, { cause: err });
}
