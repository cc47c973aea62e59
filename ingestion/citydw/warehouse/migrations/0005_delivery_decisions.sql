-- Why a version was rejected, and when a version was reinstated (citydw.deliveries).
--
-- A version rejected for its content stays rejected when the same bytes come
-- again. One rejected because citydw failed on it (an internal error) or
-- because its ingest was killed half-way (interrupted) is not the
-- department's fault: the same bytes again are processed again.
alter table meta.deliveries
    add column if not exists rejection_kind text
        check (rejection_kind in ('content', 'internal_error', 'interrupted')),
    add column if not exists reinstated_at timestamptz;

comment on column meta.deliveries.rejection_kind is
    'For a rejected version: content (its data failed a rule or could not be read), internal_error (citydw failed on it; logged and alerted), interrupted (its ingest died before deciding). The same bytes again are re-processed unless content.';
comment on column meta.deliveries.reinstated_at is
    'When an operator made this older version the accepted one again (citydw ingest --reinstate vN).';
