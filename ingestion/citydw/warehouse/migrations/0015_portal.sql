-- The department portal (citydw.portal): clerks' accounts, who submitted a
-- delivery, and an audit trail of every login and submission.

-- One account per clerk, bound to one department. The password is an argon2
-- hash; the API token is kept only as its sha256, so a copy of this table
-- lets nobody in.
create table if not exists meta.portal_users (
    user_id          bigserial primary key,
    username         text        not null unique check (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    department       text        not null,
    password_hash    text        not null,
    token_sha256     text        unique check (token_sha256 ~ '^[0-9a-f]{64}$'),
    token_issued_at  timestamptz,
    created_at       timestamptz not null default now(),
    is_active        boolean     not null default true
);

comment on table meta.portal_users is 'Portal accounts: one clerk, one department; argon2 password hash, sha256 of the API token.';

-- Every login (and failed one), check, submission and refusal, for the
-- record and for rate-limiting failed logins across processes.
create table if not exists meta.portal_audit (
    audit_id     bigserial primary key,
    at           timestamptz not null default now(),
    username     text,
    department   text,
    action       text        not null
                 check (action in ('login', 'login_failed', 'login_throttled', 'logout', 'check', 'submit',
                                   'token_issued', 'forbidden')),
    dataset      text,
    report_month date,
    delivery_id  bigint references meta.deliveries (delivery_id),
    client       text,
    detail       text
);
create index if not exists portal_audit_failed_logins on meta.portal_audit (username, at) where action = 'login_failed';
create index if not exists portal_audit_client_failures on meta.portal_audit (client, at) where action = 'login_failed';

comment on table meta.portal_audit is 'One row per portal login, failed login, check, submission and refused request.';

-- Who sent a delivery through the portal; null for file drops and APIs.
alter table meta.deliveries add column if not exists submitted_by text;
comment on column meta.deliveries.submitted_by is 'Portal account that submitted this version; null when it came from a file drop or an API.';
