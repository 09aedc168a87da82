CREATE TABLE `planner_policies` (
	`tenant_id` text NOT NULL,
	`version` integer NOT NULL,
	`description` text NOT NULL,
	`document` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `planner_policy_active` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`activated_by` text NOT NULL,
	`activated_at` text NOT NULL
);
