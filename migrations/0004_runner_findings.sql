CREATE TABLE `findings` (
	`finding_id` text PRIMARY KEY NOT NULL,
	`build_id` text NOT NULL,
	`node_id` text NOT NULL,
	`task_run_id` text NOT NULL,
	`severity` text NOT NULL,
	`severity_rank` integer NOT NULL,
	`category` text NOT NULL,
	`title` text NOT NULL,
	`detail` text NOT NULL,
	`file` text,
	`line` integer,
	`event_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `findings_build_idx` ON `findings` (`build_id`,`severity_rank`,`event_seq`);--> statement-breakpoint
CREATE INDEX `findings_run_idx` ON `findings` (`task_run_id`);--> statement-breakpoint
ALTER TABLE `task_runs` ADD `runner_kind` text DEFAULT 'simulated' NOT NULL;--> statement-breakpoint
ALTER TABLE `task_runs` ADD `heartbeat_at` text;