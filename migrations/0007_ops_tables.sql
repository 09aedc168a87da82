CREATE TABLE `ops_counters` (
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`value` real NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `name`, `labels`)
);
--> statement-breakpoint
CREATE TABLE `ops_dead_letters` (
	`build_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_by` text NOT NULL,
	`state` text NOT NULL,
	`reason` text NOT NULL,
	`last_error` text NOT NULL,
	`attempts` integer NOT NULL,
	`dead_lettered_at` text NOT NULL,
	`redrive_count` integer DEFAULT 0 NOT NULL,
	`redriven_at` text,
	`redriven_by` text,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ops_dead_letters_tenant_state_idx` ON `ops_dead_letters` (`tenant_id`,`state`,`dead_lettered_at`,`build_id`);