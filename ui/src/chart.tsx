/** A uPlot time-series chart inside a preact component: made once, then fed new data (no re-creation). */
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d']

export function TimeChart({ title, series, data, testid }: { title: string; series: string[]; data: Array<Array<number | null>>; testid?: string }) {
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot>()
  const key = series.join('\u0000')
  useEffect(() => {
    if (!host.current) return
    const opts: uPlot.Options = {
      title,
      width: Math.max(280, host.current.clientWidth || 380),
      height: 160,
      series: [{}, ...series.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false, points: { show: true, size: 4 } }))],
      axes: [{}, { size: 48 }],
      legend: { show: true },
    }
    plot.current = new uPlot(opts, data as uPlot.AlignedData, host.current)
    return () => {
      plot.current?.destroy()
      plot.current = undefined
    }
    // re-created only when the set of series changes
  }, [key])
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData)
  }, [data])
  return <div class="chart" ref={host} data-testid={testid} />
}
