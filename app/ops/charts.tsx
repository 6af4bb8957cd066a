"use client";

import { Bar, BarChart, CartesianGrid, Cell, Legend, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

// Charts where a picture says more than a number: outcomes per run, and paid vs failed over 30 days.
// Each has a text equivalent next to it (the KPI cards and the runs table) for screen readers.

export type RunOutcomePoint = { cycle: string; paid: number; inTransit: number; failed: number; skipped: number };

const COLORS = { paid: "#047857", inTransit: "#1d4ed8", failed: "#b91c1c", skipped: "#9ca3af" };

export function RunOutcomesChart({ data }: { data: RunOutcomePoint[] }) {
  return (
    <figure className="chart" aria-label="Payout outcomes per run (bar chart)">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="cycle" fontSize={12} />
          <YAxis allowDecimals={false} fontSize={12} />
          <Tooltip />
          <Legend />
          <Bar dataKey="paid" name="Paid" stackId="a" fill={COLORS.paid} isAnimationActive={false} />
          <Bar dataKey="inTransit" name="In transit" stackId="a" fill={COLORS.inTransit} isAnimationActive={false} />
          <Bar dataKey="failed" name="Failed" stackId="a" fill={COLORS.failed} isAnimationActive={false} />
          <Bar dataKey="skipped" name="Skipped" stackId="a" fill={COLORS.skipped} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function SuccessPie({ paid, failed }: { paid: number; failed: number }) {
  const data = [
    { name: "Paid", value: paid, color: COLORS.paid },
    { name: "Failed", value: failed, color: COLORS.failed },
  ];
  return (
    <figure className="chart" aria-label={`Paid ${paid} and failed ${failed} payouts in 30 days (pie chart)`}>
      <ResponsiveContainer width="100%" height="100%">
        <PieChart>
          <Pie data={data} dataKey="value" nameKey="name" innerRadius="55%" outerRadius="85%" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.name} fill={d.color} />
            ))}
          </Pie>
          <Tooltip />
          <Legend />
        </PieChart>
      </ResponsiveContainer>
    </figure>
  );
}
