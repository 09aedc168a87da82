CREATE TABLE `alert_destinations` (
	`destination_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`format` text NOT NULL,
	`url` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`secret_wrapped_key` text NOT NULL,
	`secret_key_version` integer NOT NULL,
	`secret_hint` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_destinations_tenant_created_idx` ON `alert_destinations` (`tenant_id`,`created_at`,`destination_id`);--> statement-breakpoint
CREATE TABLE `alert_notifications` (
	`notification_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`destination_id` text NOT NULL,
	`alert_key` text NOT NULL,
	`firing_seq` integer NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_error` text,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_notifications_dedupe_uq` ON `alert_notifications` (`destination_id`,`alert_key`,`firing_seq`,`kind`);--> statement-breakpoint
CREATE INDEX `alert_notifications_due_idx` ON `alert_notifications` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `alert_notifications_tenant_alert_idx` ON `alert_notifications` (`tenant_id`,`alert_key`,`created_at`);--> statement-breakpoint
CREATE TABLE `alert_states` (
	`tenant_id` text NOT NULL,
	`alert_key` text NOT NULL,
	`state` text NOT NULL,
	`severity` text NOT NULL,
	`summary` text NOT NULL,
	`details` text NOT NULL,
	`firing_seq` integer NOT NULL,
	`fired_at` text NOT NULL,
	`resolved_at` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `alert_key`)
);
--> statement-breakpoint
CREATE INDEX `alert_states_tenant_updated_idx` ON `alert_states` (`tenant_id`,`updated_at`);--> statement-breakpoint
CREATE TABLE `campaign_execution_runs` (
	`execution_id` text NOT NULL,
	`run_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`repo` text NOT NULL,
	`language` text NOT NULL,
	`status` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`findings_total` integer NOT NULL,
	`findings_by_severity` text NOT NULL,
	`execution` text NOT NULL,
	`build_id` text NOT NULL,
	`observed_at` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`execution_id`, `run_id`)
);
--> statement-breakpoint
CREATE INDEX `campaign_execution_runs_campaign_idx` ON `campaign_execution_runs` (`campaign_id`,`execution_id`);--> statement-breakpoint
CREATE TABLE `campaign_schedule_slots` (
	`campaign_id` text NOT NULL,
	`due_at` text NOT NULL,
	`tenant_id` text NOT NULL,
	`execution_id` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`campaign_id`, `due_at`)
);
--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `trigger` text DEFAULT 'manual' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `due_at` text;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `status` text DEFAULT 'running' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `max_concurrent_builds` integer;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `options` text;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `runner_mode` text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `report` text;--> statement-breakpoint
ALTER TABLE `campaign_executions` ADD `finished_at` text;--> statement-breakpoint
-- Hand-written backfill (before the unique index): executions older than this migration are
-- numbered 1, 2, … per campaign in creation order; they stay `running` so the cron handler
-- re-ingests their runs from their linked builds and freezes their reports.
UPDATE `campaign_executions` SET `seq` = (
	SELECT COUNT(*) FROM `campaign_executions` AS `e2`
	WHERE `e2`.`campaign_id` = `campaign_executions`.`campaign_id`
	AND (`e2`.`created_at` < `campaign_executions`.`created_at`
		OR (`e2`.`created_at` = `campaign_executions`.`created_at` AND `e2`.`execution_id` <= `campaign_executions`.`execution_id`))
);--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_executions_seq_uq` ON `campaign_executions` (`campaign_id`,`seq`);--> statement-breakpoint
CREATE INDEX `campaign_executions_status_idx` ON `campaign_executions` (`status`);--> statement-breakpoint
ALTER TABLE `campaigns` ADD `dry_run` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `schedule` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `next_due_at` text;--> statement-breakpoint
CREATE INDEX `campaigns_next_due_idx` ON `campaigns` (`next_due_at`);