-- The warehouse's layers and the bookkeeping of every delivery.
-- Raw tables are created from the registry by the loader, not here.

create schema if not exists raw;
create schema if not exists meta;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;

comment on schema raw is 'Accepted deliveries, one table per dataset, canonical field names, one partition per report month.';
comment on schema meta is 'Deliveries and their versions, validation results, quarantined rows, alerts.';
comment on schema marts is 'What BI tools read: facts and dimensions with documented columns.';

-- Every version of every delivery, accepted or not. The same bytes for the
-- same dataset and month are registered once; new bytes are a new version.
create table if not exists meta.deliveries (
    delivery_id      bigserial primary key,
    dataset          text        not null,
    report_month     date        not null check (extract(day from report_month) = 1),
    version          integer     not null check (version >= 1),
    sha256           text        not null check (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes       bigint      not null,
    source_uri       text        not null,
    file_name        text,
    archive_uri      text        not null,
    received_at      timestamptz not null,
    registered_at    timestamptz not null default now(),
    status           text        not null default 'received'
                     check (status in ('received', 'accepted', 'rejected', 'superseded')),
    status_reason    text,
    rows_received    integer,
    rows_loaded      integer,
    rows_quarantined integer,
    decided_at       timestamptz,
    unique (dataset, report_month, sha256),
    unique (dataset, report_month, version)
);
create index if not exists deliveries_dataset_month_status
    on meta.deliveries (dataset, report_month, status);
-- At most one accepted version per dataset and month.
create unique index if not exists deliveries_one_accepted
    on meta.deliveries (dataset, report_month) where status = 'accepted';

comment on table meta.deliveries is 'One row per version of a delivery; status received → accepted | rejected, accepted → superseded by a later accepted correction.';

-- Every look for a delivery, so a missing one is a recorded fact.
create table if not exists meta.fetch_attempts (
    attempt_id   bigserial primary key,
    dataset      text        not null,
    report_month date        not null,
    attempted_at timestamptz not null default now(),
    outcome      text        not null check (outcome in ('found', 'missing', 'error')),
    detail       text
);
create index if not exists fetch_attempts_dataset_month on meta.fetch_attempts (dataset, report_month);

-- One row per expectation evaluated on a delivery.
create table if not exists meta.validation_results (
    result_id         bigserial primary key,
    delivery_id       bigint      not null references meta.deliveries (delivery_id),
    suite_name        text        not null,
    rule_id           text        not null,
    expectation_type  text        not null,
    column_name       text,
    severity          text        not null check (severity in ('blocking', 'row', 'warning')),
    description       text,
    success           boolean     not null,
    element_count     bigint,
    unexpected_count  bigint,
    unexpected_sample jsonb,
    validated_at      timestamptz not null default now()
);
create index if not exists validation_results_delivery on meta.validation_results (delivery_id);

-- Rows held back from a delivery, with the rule and the value that failed.
create table if not exists meta.quarantine (
    quarantine_id  bigserial primary key,
    delivery_id    bigint      not null references meta.deliveries (delivery_id),
    dataset        text        not null,
    report_month   date        not null,
    source_row     integer,
    column_name    text,
    header         text,
    value          text,
    rule_id        text        not null,
    rule           text        not null,
    expected       text,
    severity       text        not null check (severity in ('blocking', 'row', 'warning')),
    record         jsonb,
    quarantined_at timestamptz not null default now()
);
create index if not exists quarantine_dataset_month on meta.quarantine (dataset, report_month);
create index if not exists quarantine_delivery on meta.quarantine (delivery_id);
