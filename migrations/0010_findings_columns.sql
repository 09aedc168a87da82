ALTER TABLE `builds` ADD `findings_summary` text;--> statement-breakpoint
ALTER TABLE `findings` ADD `rule_id` text;--> statement-breakpoint
ALTER TABLE `findings` ADD `tool` text;--> statement-breakpoint
ALTER TABLE `findings` ADD `snippet` text;--> statement-breakpoint
ALTER TABLE `findings` ADD `end_line` integer;--> statement-breakpoint
ALTER TABLE `findings` ADD `column_number` integer;--> statement-breakpoint
ALTER TABLE `findings` ADD `fingerprint` text;--> statement-breakpoint
ALTER TABLE `findings` ADD `state` text;--> statement-breakpoint
CREATE INDEX `findings_build_fingerprint_idx` ON `findings` (`build_id`,`fingerprint`);