/** Errors of the local model store, each saying what to do. */

import { UserError, type UserErrorOptions } from "../errors";

/** The configured models directory cannot be used as given. */
export class ModelsDirectoryError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "ModelsDirectoryError";
  }
}

/** A delete was refused because the file is not SLM Lab's to delete. Nothing was deleted. */
export class ModelDeletionRefusedError extends UserError {
  readonly file: string;

  constructor(file: string, message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = "ModelDeletionRefusedError";
    this.file = file;
  }
}
