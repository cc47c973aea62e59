-- The delivery ledger and the month close (citydw.quality): the official
-- working-day calendar, when each dataset's delivery is due, waivers, and the
-- correction cases the departments are chased with. Python fills the first
-- two from the registry and chinese-calendar (citydw.quality.ledger); dbt
-- reads them for marts.fct_department_delivery_monthly and
-- marts.dim_report_month.

-- One row per calendar day of every year the official calendar is known for:
-- statutory holidays are off, make-up working days (调休) are on.
create table if not exists meta.working_days (
    day            date    primary key,
    is_working_day boolean not null,
    holiday_name   text    -- e.g. 'Spring Festival' on a holiday or a make-up working day
);
comment on table meta.working_days is
    'The official Chinese working-day calendar (chinese-calendar), holidays and 调休 included; written by citydw.quality.ledger.';

-- When each dataset's delivery for each report month is due. A row means the
-- delivery is expected: a month with no row is not chased.
create table if not exists meta.delivery_schedule (
    dataset         text        not null,  -- department.dataset, e.g. drc.major_projects
    report_month    date        not null check (extract(day from report_month) = 1),
    department      text        not null,  -- department code, e.g. drc
    department_name text        not null,  -- e.g. 市发展和改革委员会
    dataset_title   text        not null,  -- the template's title, e.g. 重大项目月度调度表
    due_date        date        not null,
    scheduled_at    timestamptz not null default now(),
    primary key (dataset, report_month)
);
create index if not exists delivery_schedule_month on meta.delivery_schedule (report_month);
comment on table meta.delivery_schedule is
    'One row per dataset and report month a delivery is expected for, with its due date on the official calendar.';

-- A dataset-month the city decided not to wait for (the department has
-- nothing to report, the template was retired …). A waived month counts as
-- closed for certification. Revoking keeps the row, with who and when.
create table if not exists meta.waivers (
    waiver_id    bigserial   primary key,
    dataset      text        not null,
    report_month date        not null check (extract(day from report_month) = 1),
    reason       text        not null check (length(btrim(reason)) > 0),
    waived_by    text        not null check (length(btrim(waived_by)) > 0),
    waived_at    timestamptz not null default now(),
    revoked_by   text,
    revoked_at   timestamptz,
    check ((revoked_at is null) = (revoked_by is null))
);
create unique index if not exists waivers_one_active
    on meta.waivers (dataset, report_month) where revoked_at is null;
comment on table meta.waivers is
    'Waived dataset-months: not delivered, and not waited for; reason and who are required. At most one active waiver each.';

-- One row per problem a department must correct: a quarantined value (a row
-- rule broken) or a rejected delivery (a blocking rule broken). The case
-- follows the problem from version to version of the delivery (file, row and
-- value are those of the latest version that still has it) and closes by
-- itself when a later version is accepted without it.
create table if not exists meta.correction_cases (
    case_id         bigserial   primary key,
    dataset         text        not null,
    report_month    date        not null check (extract(day from report_month) = 1),
    -- What the problem is, stable across versions: rule, column and the
    -- row's key (e.g. its project code), or 'delivery' for a rejection.
    problem_key     text        not null,
    kind            text        not null check (kind in ('row', 'delivery')),
    delivery_id     bigint      not null references meta.deliveries (delivery_id),
    file_name       text,
    version         integer     not null,
    source_row      integer,
    row_key         text,       -- the row's key values as the department wrote them, e.g. its 项目代码
    column_name     text,
    header          text,
    value           text,
    rule_id         text        not null,
    rule            text        not null,
    expected        text,
    deadline        date        not null,
    opened_at       timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    closed_at       timestamptz,
    closed_by_delivery_id bigint references meta.deliveries (delivery_id),
    check ((closed_at is null) = (closed_by_delivery_id is null)),
    unique (dataset, report_month, problem_key)
);
create index if not exists correction_cases_month on meta.correction_cases (report_month, dataset);
comment on table meta.correction_cases is
    'Problems a department must correct, one per rule × row key (or per rejected delivery); closed when a later accepted version no longer has it.';
