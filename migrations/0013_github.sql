CREATE TABLE `github_reports` (
	`report_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`payload` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `github_reports_build_kind_uq` ON `github_reports` (`build_id`,`kind`);--> statement-breakpoint
CREATE INDEX `github_reports_state_next_idx` ON `github_reports` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `github_reports_tenant_state_idx` ON `github_reports` (`tenant_id`,`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `github_repositories` (
	`binding_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`full_name` text NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`profile` text,
	`push_branches` text NOT NULL,
	`pull_requests` integer NOT NULL,
	`policy_profile` text,
	`supersede_on_push` integer NOT NULL,
	`sarif_upload` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `github_repositories_tenant_name_uq` ON `github_repositories` (`tenant_id`,`full_name`);--> statement-breakpoint
CREATE INDEX `github_repositories_tenant_created_idx` ON `github_repositories` (`tenant_id`,`created_at`,`binding_id`);--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `event` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `outcome` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `outcome_reason` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `build_id` text;