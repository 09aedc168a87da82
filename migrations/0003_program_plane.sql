CREATE TABLE `campaign_builds` (
	`build_id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`execution_id` text NOT NULL,
	`run_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_builds_run_uq` ON `campaign_builds` (`campaign_id`,`execution_id`,`run_id`);--> statement-breakpoint
CREATE TABLE `campaign_executions` (
	`execution_id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`plan` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaign_executions_campaign_idx` ON `campaign_executions` (`campaign_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `campaign_runs` (
	`campaign_id` text NOT NULL,
	`run_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`repo` text NOT NULL,
	`language` text NOT NULL,
	`status` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`findings_total` integer NOT NULL,
	`source` text NOT NULL,
	`build_id` text,
	`observed_at` text NOT NULL,
	`revision` integer NOT NULL,
	`ingested_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`campaign_id`, `run_id`)
);
--> statement-breakpoint
CREATE TABLE `campaigns` (
	`campaign_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`repos` text NOT NULL,
	`runs_per_repo` integer NOT NULL,
	`threshold_profile` text NOT NULL,
	`current_execution_id` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `campaigns_tenant_created_idx` ON `campaigns` (`tenant_id`,`created_at`,`campaign_id`);--> statement-breakpoint
CREATE TABLE `go_live_decisions` (
	`tenant_id` text NOT NULL,
	`release_id` text NOT NULL,
	`status` text NOT NULL,
	`reasons` text NOT NULL,
	`validation` text NOT NULL,
	`revision` integer NOT NULL,
	`decided_by` text NOT NULL,
	`created_at` text NOT NULL,
	`decided_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `release_id`)
);
--> statement-breakpoint
CREATE TABLE `policy_profiles` (
	`profile_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`blocked_commands` text NOT NULL,
	`restricted_paths` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `policy_profiles_tenant_created_idx` ON `policy_profiles` (`tenant_id`,`created_at`,`profile_id`);--> statement-breakpoint
CREATE TABLE `release_checklists` (
	`tenant_id` text NOT NULL,
	`release_id` text NOT NULL,
	`security_review` integer NOT NULL,
	`slo_dashboard` integer NOT NULL,
	`rollback_tested` integer NOT NULL,
	`docs_complete` integer NOT NULL,
	`runbooks_ready` integer NOT NULL,
	`revision` integer NOT NULL,
	`updated_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `release_id`)
);
--> statement-breakpoint
CREATE TABLE `rollback_drills` (
	`tenant_id` text NOT NULL,
	`release_id` text NOT NULL,
	`passed` integer NOT NULL,
	`duration_minutes` integer NOT NULL,
	`issues_found` text NOT NULL,
	`revision` integer NOT NULL,
	`updated_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `release_id`)
);
--> statement-breakpoint
CREATE TABLE `secrets` (
	`secret_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`ciphertext` text NOT NULL,
	`wrapped_key` text NOT NULL,
	`key_version` integer NOT NULL,
	`cipher_digest` text NOT NULL,
	`cipher_length` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`rotated_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `secrets_tenant_name_uq` ON `secrets` (`tenant_id`,`name`);--> statement-breakpoint
CREATE INDEX `secrets_tenant_created_idx` ON `secrets` (`tenant_id`,`created_at`,`secret_id`);--> statement-breakpoint
CREATE INDEX `secrets_tenant_key_version_idx` ON `secrets` (`tenant_id`,`key_version`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`delivery_id` text PRIMARY KEY NOT NULL,
	`scheme` text NOT NULL,
	`external_id` text NOT NULL,
	`tenant_id` text,
	`signed_at` integer NOT NULL,
	`received_at` text NOT NULL,
	`content_type` text,
	`body` text NOT NULL,
	`body_encoding` text NOT NULL,
	`body_digest` text NOT NULL,
	`body_bytes` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_scheme_external_uq` ON `webhook_deliveries` (`scheme`,`external_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_tenant_received_idx` ON `webhook_deliveries` (`tenant_id`,`received_at`,`delivery_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_received_idx` ON `webhook_deliveries` (`received_at`,`delivery_id`);