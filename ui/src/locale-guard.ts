// Imported first by main.ts, before any library is evaluated. WebKit reports the POSIX locale of
// a PC run with LANG=C (common on kiosk and service PCs) as navigator.language "C", which Intl
// refuses with a RangeError; a library that formats with navigator.language at load (uPlot does)
// would then stop the whole window from starting. Such a tag is replaced by the runtime's own
// default locale, which Intl always accepts.

function acceptedByIntl(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (!acceptedByIntl(navigator.language)) {
  const fallback = Intl.DateTimeFormat().resolvedOptions().locale;
  Object.defineProperty(navigator, "language", { value: fallback, configurable: true });
  Object.defineProperty(navigator, "languages", {
    value: [fallback, ...navigator.languages.filter(acceptedByIntl)],
    configurable: true,
  });
}

export {};
