CREATE TABLE `runtime_sessions` (
	`build_id` text PRIMARY KEY NOT NULL,
	`runtime_id` text NOT NULL,
	`status` text NOT NULL,
	`sandbox_profile` text NOT NULL,
	`metadata` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
