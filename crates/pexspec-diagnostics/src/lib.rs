//! Spans, the Diagnostic type, the registry of check codes and the reporters (human, json, sarif, github)
