-- Every alert citydw tried to send, one row per recipient and channel
-- (citydw.alerts.send). Recipients are addresses or route names, never keys
-- or tokens: this table is safe to show to operators.

create table if not exists meta.alerts (
    alert_id     bigserial primary key,
    -- What the alert is about, stable across runs: the same problem in the
    -- same month is alerted once per recipient, e.g.
    -- 'quarantine:drc.major_projects' or 'airflow-task-failed:citydw_monthly.build:…'.
    problem_key  text        not null,
    department   text,        -- null for the data team's own alerts
    dataset      text,        -- department.dataset, when the problem is one dataset's
    report_month date        check (extract(day from report_month) = 1),
    channel      text        not null,  -- email, wecom, dingtalk, slack, webhook (or an Apprise schema)
    recipient    text        not null,  -- an e-mail address or the route's name
    subject      text        not null,
    body         text        not null,
    status       text        not null check (status in ('sent', 'failed')),
    error        text,        -- why a failed alert failed, secrets removed
    attempted_at timestamptz not null default now(),
    sent_at      timestamptz,  -- when the channel accepted it; null unless sent
    check ((status = 'sent') = (sent_at is not null)),
    check (status = 'sent' or error is not null)
);

-- Once sent, never again for the same problem, month, channel and recipient.
-- Failed attempts may repeat (each is a row) until one succeeds. A missing
-- month counts as one value, not as distinct NULLs.
create unique index if not exists alerts_sent_once
    on meta.alerts (problem_key, coalesce(report_month, date '0001-01-01'), channel, recipient)
    where status = 'sent';
create index if not exists alerts_month_department on meta.alerts (report_month, department);

comment on table meta.alerts is
    'One row per alert attempt: status sent (sent_at set) or failed (error says why). '
    'At most one sent row per (problem_key, report_month, channel, recipient).';
comment on column meta.alerts.recipient is 'An e-mail address or the route''s name; never a key, token or webhook URL.';
