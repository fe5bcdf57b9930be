import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export class DirectMessage extends Model<InferAttributes<DirectMessage>, InferCreationAttributes<DirectMessage>> {
  declare id: CreationOptional<number>;
  declare senderId: number;
  declare receiverId: number;
  declare content: string;
  declare isRead: CreationOptional<boolean>;
  declare readAt: CreationOptional<Date | null>;
  /** Client-chosen id that makes a retried send idempotent (unique per sender). */
  declare clientId: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): void {
    DirectMessage.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        senderId: { type: DataTypes.INTEGER, allowNull: false },
        receiverId: { type: DataTypes.INTEGER, allowNull: false },
        content: { type: DataTypes.TEXT, allowNull: false },
        isRead: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        readAt: { type: DataTypes.DATE, allowNull: true },
        clientId: { type: DataTypes.STRING(64), allowNull: true },
        createdAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'direct_messages', underscored: true, updatedAt: false },
    );
  }
}

export class GroupMessage extends Model<InferAttributes<GroupMessage>, InferCreationAttributes<GroupMessage>> {
  declare id: CreationOptional<number>;
  declare groupId: number;
  declare senderId: number;
  declare content: string;
  declare clientId: CreationOptional<string | null>;
  declare createdAt: CreationOptional<Date>;

  static initModel(sequelize: Sequelize): void {
    GroupMessage.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        groupId: { type: DataTypes.INTEGER, allowNull: false },
        senderId: { type: DataTypes.INTEGER, allowNull: false },
        content: { type: DataTypes.TEXT, allowNull: false },
        clientId: { type: DataTypes.STRING(64), allowNull: true },
        createdAt: DataTypes.DATE,
      },
      { sequelize, tableName: 'group_messages', underscored: true, updatedAt: false },
    );
  }
}
