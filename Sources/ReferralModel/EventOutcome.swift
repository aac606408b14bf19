/// What happened to one event in an `events` run (`events.csv`'s `outcome` column, the `outcome` label of the
/// events metrics), in report order. The raw values are the report's words.
public enum EventOutcome: String, Sendable, Codable, CaseIterable {
    /// Attentive answered 2xx; the ledger holds it delivered and it is never sent again.
    case delivered
    /// Unreachable, not sent, or refused for a reason that may pass; it stays pending and the next run sends it
    /// again, with the same body.
    case failed
    /// Refused for its content (400, 413, 422): parked, sent again only on `--retry-refused` (`refused.csv`).
    case refused
    /// Not sendable (the error column says why: no usable identity, a rejected row).
    case skipped
    /// It occurred more than `--max-age` hours before the as-of and would trigger no journey (`--backfill` sends it).
    case tooOld = "too_old"
    /// `--dry-run`: it would have been sent.
    case dryRun = "dry_run"
}
