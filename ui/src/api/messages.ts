// Words for errors: what happened and what the operator can do next.

import type { CommandError } from "../bindings";

export function describeError(error: CommandError): string {
  switch (error.kind) {
    case "NotFound":
      return "This machine no longer exists: someone deleted it. The list has been refreshed.";
    case "Validation":
      return error.data.fields.map((f) => f.message).join(" · ");
    case "DuplicateName":
      return `Another machine is already named “${error.data.name}” (names are unique, ignoring letter case). Choose another name.`;
    case "StaleVersion":
      return `Someone else changed this machine while you were editing (it is now at version ${error.data.current.version}).`;
    case "DatabaseUnavailable":
      return `The database is unreachable (${error.data.reason}). Nothing was saved; your entry is kept here. Try again when the connection is back.`;
    case "Refused":
      return `The database refused this change: ${error.data.reason}. Nothing was changed.`;
    case "NeedsAttention":
      return "The database holds rows that break the registry's rules; an administrator must fix them (see the banner).";
    case "NotSignedIn":
      return `Nobody is signed in (${error.data.reason}).`;
    case "SignInRefused":
      return `${error.data.reason} Check them and try again.`;
    case "Internal":
      return `Something unexpected went wrong: ${error.data.message}`;
  }
}
