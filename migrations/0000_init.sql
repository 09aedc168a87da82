CREATE TABLE `build_events` (
	`build_id` text NOT NULL,
	`seq` integer NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`build_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `build_events_type_idx` ON `build_events` (`build_id`,`event_type`,`seq`);--> statement-breakpoint
CREATE TABLE `build_nodes` (
	`build_id` text NOT NULL,
	`node_id` text NOT NULL,
	`position` integer NOT NULL,
	`title` text NOT NULL,
	`agent` text NOT NULL,
	`depends_on` text NOT NULL,
	`gate` text,
	`level` integer NOT NULL,
	`status` text NOT NULL,
	`not_before` text,
	PRIMARY KEY(`build_id`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `build_write_fences` (
	`build_id` text NOT NULL,
	`epoch` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `builds` (
	`build_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_by` text NOT NULL,
	`repo_url` text NOT NULL,
	`objective` text NOT NULL,
	`status` text NOT NULL,
	`scan_mode` text NOT NULL,
	`metadata` text NOT NULL,
	`task_total` integer DEFAULT 0 NOT NULL,
	`task_completed` integer DEFAULT 0 NOT NULL,
	`task_failed` integer DEFAULT 0 NOT NULL,
	`node_total` integer DEFAULT 0 NOT NULL,
	`node_done` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_epoch` integer DEFAULT 0 NOT NULL,
	`lease_expires_at` text,
	`heartbeat_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `builds_owner_created_idx` ON `builds` (`created_by`,`created_at`,`build_id`);--> statement-breakpoint
CREATE INDEX `builds_owner_status_created_idx` ON `builds` (`created_by`,`status`,`created_at`,`build_id`);--> statement-breakpoint
CREATE INDEX `builds_tenant_created_idx` ON `builds` (`tenant_id`,`created_at`,`build_id`);--> statement-breakpoint
CREATE INDEX `builds_status_lease_idx` ON `builds` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE TABLE `checkpoints` (
	`checkpoint_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`event_cursor` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `checkpoints_build_idx` ON `checkpoints` (`build_id`,`event_cursor`);--> statement-breakpoint
CREATE TABLE `debt_items` (
	`debt_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`node_id` text NOT NULL,
	`summary` text NOT NULL,
	`severity` text NOT NULL,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `debt_items_build_idx` ON `debt_items` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `gate_decisions` (
	`decision_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`gate` text NOT NULL,
	`status` text NOT NULL,
	`reason` text NOT NULL,
	`node_id` text,
	`source` text NOT NULL,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `gate_decisions_build_idx` ON `gate_decisions` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `policy_violations` (
	`violation_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`source` text NOT NULL,
	`blocking` integer NOT NULL,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `policy_violations_build_idx` ON `policy_violations` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `replan_decisions` (
	`decision_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`action` text NOT NULL,
	`reason` text NOT NULL,
	`source` text NOT NULL,
	`replacement_nodes` text NOT NULL,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `replan_decisions_build_idx` ON `replan_decisions` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `runner_logs` (
	`log_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`runtime_id` text NOT NULL,
	`node_id` text NOT NULL,
	`task_run_id` text NOT NULL,
	`runner` text NOT NULL,
	`workspace_id` text NOT NULL,
	`status` text NOT NULL,
	`message` text NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text NOT NULL,
	`duration_ms` real NOT NULL,
	`error` text,
	`metadata` text NOT NULL,
	`event_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runner_logs_build_idx` ON `runner_logs` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `runner_logs_task_uq` ON `runner_logs` (`task_run_id`);--> statement-breakpoint
CREATE TABLE `runtime_metrics` (
	`metric_id` text PRIMARY KEY NOT NULL,
	`build_id` text,
	`runtime_id` text,
	`metric` text NOT NULL,
	`value` real NOT NULL,
	`tags` text NOT NULL,
	`fields` text NOT NULL,
	`emitted_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runtime_metrics_build_idx` ON `runtime_metrics` (`build_id`,`metric`,`emitted_at`);--> statement-breakpoint
CREATE TABLE `status_transitions` (
	`transition_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`from_status` text NOT NULL,
	`to_status` text NOT NULL,
	`reason` text NOT NULL,
	`source` text NOT NULL,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `status_transitions_build_idx` ON `status_transitions` (`build_id`,`event_seq`);--> statement-breakpoint
CREATE TABLE `task_runs` (
	`task_run_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`node_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text,
	`error` text,
	`due_at` text,
	`event_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `task_runs_node_attempt_uq` ON `task_runs` (`build_id`,`node_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `task_runs_build_seq_idx` ON `task_runs` (`build_id`,`event_seq`);