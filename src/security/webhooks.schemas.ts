/** Query/param schemas of the webhook delivery routes. */
import { z } from "zod";

export const ListDeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
  scheme: z.enum(["platform", "standard"]).optional(),
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

export const DeliveryIdParam = z.object({ delivery_id: z.uuid() });
