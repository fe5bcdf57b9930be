import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const CALL_TYPES = ['audio', 'video'] as const;
export type CallType = (typeof CALL_TYPES)[number];
export const CALL_STATUSES = ['pending', 'active', 'ended', 'rejected', 'missed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export class Call extends Model<InferAttributes<Call>, InferCreationAttributes<Call>> {
  declare id: CreationOptional<number>;
  declare callerId: number;
  declare calleeId: number;
  declare callType: CallType;
  declare status: CreationOptional<CallStatus>;
  declare startedAt: CreationOptional<Date>;
  declare answeredAt: CreationOptional<Date | null>;
  declare endedAt: CreationOptional<Date | null>;

  static initModel(sequelize: Sequelize): void {
    Call.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        callerId: { type: DataTypes.INTEGER, allowNull: false },
        calleeId: { type: DataTypes.INTEGER, allowNull: false },
        callType: { type: DataTypes.STRING(8), allowNull: false },
        status: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'pending' },
        startedAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        answeredAt: { type: DataTypes.DATE, allowNull: true },
        endedAt: { type: DataTypes.DATE, allowNull: true },
      },
      { sequelize, tableName: 'calls', underscored: true, timestamps: false },
    );
  }
}
